"""`promptflow.tools.openai` (promptflow-tools): OpenAI chat and completion over an OpenAIConnection."""
from ._llm_calls import LlmToolProvider


class OpenAI(LlmToolProvider):
    def completion(self, prompt, model="gpt-3.5-turbo-instruct", suffix=None, max_tokens=16, temperature=1.0,
                   top_p=1.0, n=1, stream=False, logprobs=None, echo=False, stop=None, presence_penalty=0,
                   frequency_penalty=0, best_of=1, logit_bias={}, user="", **kwargs):
        return self._call("completion", locals(), {"model": model})

    def chat(self, prompt, model="gpt-3.5-turbo", temperature=1.0, top_p=1.0, n=1, stream=False, stop=None,
             max_tokens=None, presence_penalty=0, frequency_penalty=0, logit_bias={}, user="", function_call=None,
             functions=None, response_format=None, **kwargs):
        return self._call("chat", locals(), {"model": model})


def completion(connection, prompt, model="gpt-3.5-turbo-instruct", **kwargs):
    return OpenAI(connection).completion(prompt=prompt, model=model, **kwargs)


def chat(connection, prompt, model="gpt-3.5-turbo", **kwargs):
    return OpenAI(connection).chat(prompt=prompt, model=model, **kwargs)
