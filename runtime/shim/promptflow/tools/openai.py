"""`promptflow.tools.openai` (promptflow-tools): OpenAI chat and completion over an OpenAIConnection."""
from promptflow.core import ToolProvider

from . import _llm_calls


class OpenAI(ToolProvider):
    def __init__(self, connection):
        super().__init__()
        self.connection = connection

    def completion(self, prompt, model="gpt-3.5-turbo-instruct", suffix=None, max_tokens=16, temperature=1.0,
                   top_p=1.0, n=1, stream=False, logprobs=None, echo=False, stop=None, presence_penalty=0,
                   frequency_penalty=0, best_of=1, logit_bias={}, user="", **kwargs):
        params = _llm_calls.completion_params(suffix, max_tokens, temperature, top_p, n, stream, logprobs, echo,
                                              stop, presence_penalty, frequency_penalty, best_of, logit_bias, user)
        return _llm_calls.call(self.connection, "completion", prompt, {"model": model}, params, kwargs)

    def chat(self, prompt, model="gpt-3.5-turbo", temperature=1.0, top_p=1.0, n=1, stream=False, stop=None,
             max_tokens=None, presence_penalty=0, frequency_penalty=0, logit_bias={}, user="", function_call=None,
             functions=None, response_format=None, **kwargs):
        params = _llm_calls.chat_params(temperature, top_p, n, stream, stop, max_tokens, presence_penalty,
                                        frequency_penalty, logit_bias, user, function_call, functions,
                                        response_format, kwargs)
        return _llm_calls.call(self.connection, "chat", prompt, {"model": model}, params, kwargs)


def completion(connection, prompt, model="gpt-3.5-turbo-instruct", **kwargs):
    return OpenAI(connection).completion(prompt=prompt, model=model, **kwargs)


def chat(connection, prompt, model="gpt-3.5-turbo", **kwargs):
    return OpenAI(connection).chat(prompt=prompt, model=model, **kwargs)
