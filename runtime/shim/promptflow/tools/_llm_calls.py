"""The calls of promptflow-tools' AzureOpenAI and OpenAI classes, made with the runtime's llm tool: the prompt is a
jinja2 template rendered with the extra keyword arguments, the answer the first choice's text (or a generator of it
when streamed), as promptflow-tools returns it."""

TIMEOUT_SECONDS = 600.0


def _unchanged(text):
    return text


def call(connection, api, prompt, target, params, variables):
    from flowsession_runtime import llm

    inputs = dict(variables)
    inputs.update({k: v for k, v in params.items() if v is not None and v != "" and v != {}})
    inputs.update(target)
    return llm.call(prompt, inputs, llm.connection_spec(connection), getattr(connection, "name", None), api,
                    TIMEOUT_SECONDS, _unchanged)


def chat_params(temperature, top_p, n, stream, stop, max_tokens, presence_penalty, frequency_penalty, logit_bias,
                user, function_call, functions, response_format, extra):
    params = {"temperature": temperature, "top_p": top_p, "n": n, "stream": stream, "stop": stop or None,
              "max_tokens": max_tokens, "presence_penalty": presence_penalty, "frequency_penalty": frequency_penalty,
              "logit_bias": logit_bias, "user": user, "function_call": function_call, "functions": functions,
              "response_format": response_format}
    for key in ("tools", "tool_choice", "seed"):
        if key in extra:
            params[key] = extra.pop(key)
    return params


def completion_params(suffix, max_tokens, temperature, top_p, n, stream, logprobs, echo, stop, presence_penalty,
                      frequency_penalty, best_of, logit_bias, user):
    return {"suffix": suffix, "max_tokens": max_tokens, "temperature": temperature, "top_p": top_p, "n": n,
            "stream": stream, "logprobs": logprobs, "echo": echo or None, "stop": stop or None,
            "presence_penalty": presence_penalty, "frequency_penalty": frequency_penalty, "best_of": best_of,
            "logit_bias": logit_bias, "user": user}
