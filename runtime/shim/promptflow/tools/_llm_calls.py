"""The calls of promptflow-tools' AzureOpenAI and OpenAI classes, made with the runtime's llm tool: the prompt is a
jinja2 template rendered with the extra keyword arguments, the answer the first choice's text (or a generator of it
when streamed), as promptflow-tools returns it."""
from promptflow.core import ToolProvider

TIMEOUT_SECONDS = 600.0
# the request parameters of each API that the tools' signatures name (the rest of their arguments are the template's)
CHAT_PARAMS = ("temperature", "top_p", "n", "stream", "stop", "max_tokens", "presence_penalty", "frequency_penalty",
               "logit_bias", "user", "function_call", "functions", "response_format")
COMPLETION_PARAMS = ("suffix", "max_tokens", "temperature", "top_p", "n", "stream", "logprobs", "echo", "stop",
                     "presence_penalty", "frequency_penalty", "best_of", "logit_bias", "user")
# chat parameters newer promptflow-tools versions take as keyword arguments
_CHAT_EXTRA = ("tools", "tool_choice", "seed")


def _unchanged(text):
    return text


class LlmToolProvider(ToolProvider):
    """What AzureOpenAI and OpenAI share: a connection, and a call given the tool method's arguments (`locals()`)."""

    def __init__(self, connection):
        super().__init__()
        self.connection = connection

    def _call(self, api, args, target):
        from flowsession_runtime import llm

        variables = dict(args.get("kwargs") or {})
        params = {k: args.get(k) for k in (CHAT_PARAMS if api == "chat" else COMPLETION_PARAMS)}
        if api == "chat":
            params.update({k: variables.pop(k) for k in _CHAT_EXTRA if k in variables})
        inputs = dict(variables)
        inputs.update({k: v for k, v in params.items() if v is not None and v != "" and v != {} and v is not False})
        inputs.update(target)
        return llm.call(args["prompt"], inputs, llm.connection_spec(self.connection),
                        getattr(self.connection, "name", None), api, TIMEOUT_SECONDS, _unchanged)
