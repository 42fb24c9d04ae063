"""`promptflow.tools.aoai` (promptflow-tools): Azure OpenAI chat and completion over an AzureOpenAIConnection."""
from ._llm_calls import LlmToolProvider


class AzureOpenAI(LlmToolProvider):
    def completion(self, prompt, deployment_name, suffix=None, max_tokens=16, temperature=1.0, top_p=1.0, n=1,
                   stream=False, logprobs=None, echo=False, stop=None, presence_penalty=0, frequency_penalty=0,
                   best_of=1, logit_bias={}, user="", **kwargs):
        return self._call("completion", locals(), {"deployment_name": deployment_name})

    def chat(self, prompt, deployment_name, temperature=1.0, top_p=1.0, n=1, stream=False, stop=None,
             max_tokens=None, presence_penalty=0, frequency_penalty=0, logit_bias={}, user="", function_call=None,
             functions=None, response_format=None, **kwargs):
        return self._call("chat", locals(), {"deployment_name": deployment_name})


def completion(connection, prompt, deployment_name, **kwargs):
    return AzureOpenAI(connection).completion(prompt=prompt, deployment_name=deployment_name, **kwargs)


def chat(connection, prompt, deployment_name, **kwargs):
    return AzureOpenAI(connection).chat(prompt=prompt, deployment_name=deployment_name, **kwargs)
