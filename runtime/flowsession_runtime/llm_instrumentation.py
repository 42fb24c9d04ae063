"""What a traced run instruments besides its own LLM calls: the user's code calling an LLM API over http.client or
urllib (http_calls) and with the `openai` package (openai_sdk)."""
from . import http_calls, openai_sdk


def install():
    http_calls.install()
    openai_sdk.install()
