"""LLM calls made by the user's own code: over urllib and http.client against the loopback stub (real HTTP), and
with the `openai` package. PyPI is out of reach, so the SDK test uses a minimal package of the SDK's shape in the
flow folder: it tests the patching logic (import hook, wrapped create methods, streams), not the real SDK."""
import json
import unittest

from tests.test_llm import KEY, Stub, StubTestCase

URLLIB_TOOL = """
import json
import unittest
import urllib.request
from promptflow import tool
from promptflow.connections import OpenAIConnection


@tool
def ask(conn: OpenAIConnection, question: str) -> str:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": question}], "temperature": 0.5}
    req = urllib.request.Request(conn.base_url + "/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + conn.api_key,
                                          "Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req) as resp:
        answer = json.loads(resp.read())
    return answer["choices"][0]["message"]["content"]
"""

HTTP_CLIENT_STREAM_TOOL = """
import http.client
import json
import unittest
import urllib.parse
from promptflow import tool
from promptflow.connections import AzureOpenAIConnection


@tool
def ask(conn: AzureOpenAIConnection, question: str) -> str:
    where = urllib.parse.urlsplit(conn.api_base)
    http_conn = http.client.HTTPConnection(where.hostname, where.port)
    body = {"messages": [{"role": "user", "content": question}], "stream": True,
            "stream_options": {"include_usage": True}}
    http_conn.request("POST", "/openai/deployments/dep-1/chat/completions?api-version=2024-10-21",
                      body=json.dumps(body), headers={"api-key": conn.api_key, "Content-Type": "application/json"})
    resp = http_conn.getresponse()
    text = ""
    for line in resp:
        line = line.decode().strip()
        if line.startswith("data:") and line != "data: [DONE]":
            for c in json.loads(line[5:])["choices"]:
                text += c.get("delta", {}).get("content") or ""
    resp.close()
    return text
"""

FAKE_OPENAI = {
    "openai/__init__.py": """
from .resources import Completions, Embeddings
from .resources.chat import Completions as ChatCompletions


class OpenAI:
    base_url = "http://stub.invalid/v1/"

    def __init__(self, api_key):
        self.api_key = api_key
        self.chat = type("Chat", (), {})()
        self.chat.completions = ChatCompletions(self)
        self.embeddings = Embeddings(self)


class AzureOpenAI(OpenAI):
    base_url = "http://stub.invalid/openai/"
""",
    "openai/resources/__init__.py": """
class Model:
    def __init__(self, **fields):
        self.fields = fields

    def model_dump(self):
        return self.fields


class Resource:
    def __init__(self, client):
        self._client = client


class Completions(Resource):
    def create(self, *, model, prompt, **kwargs):
        return Model(model=model, choices=[{"text": "done: " + prompt, "finish_reason": "stop"}],
                     usage={"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4})


class AsyncCompletions(Resource):
    pass


class Embeddings(Resource):
    def create(self, *, model, input, **kwargs):
        return Model(model=model, data=[{"embedding": [0.1]}], usage={"prompt_tokens": 3, "total_tokens": 3})


class AsyncEmbeddings(Resource):
    async def create(self, *, model, input, **kwargs):
        return Model(model=model, data=[{"embedding": [0.2]}], usage={"prompt_tokens": 4, "total_tokens": 4})
""",
    "openai/resources/chat/__init__.py": """
from openai.resources import Model, Resource


class Stream:
    def __init__(self, chunks):
        self.chunks = chunks
        self.closed = False

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        self.closed = True


class Completions(Resource):
    def create(self, *, model, messages, stream=False, api_key=None, **kwargs):
        if model == "refused":
            raise RuntimeError("the model is refused")
        text = "hi " + messages[-1]["content"]
        if stream:
            return Stream([Model(model=model, choices=[{"index": 0, "delta": {"content": w}}]) for w in text.split()]
                          + [Model(model=model, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}])]
                          + [Model(model=model, choices=[], usage={"prompt_tokens": 1, "completion_tokens": 2,
                                                                   "total_tokens": 3})])
        return Model(model=model, id="cmpl-1", choices=[{"message": {"role": "assistant", "content": text},
                                                         "finish_reason": "stop"}],
                     usage={"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11})


class AsyncCompletions(Resource):
    async def create(self, *, model, messages, **kwargs):
        return Model(model=model, choices=[], usage={"prompt_tokens": 7, "completion_tokens": 1, "total_tokens": 8})
""",
    "sdk_entry.py": """
import asyncio
import sys


def entry(question: str) -> dict:
    assert "openai" not in sys.modules, "the runtime did not import openai itself"
    import openai
    from openai.resources import AsyncEmbeddings
    from openai.resources.chat import AsyncCompletions
    client = openai.OpenAI(api_key="sk-sdk-secret-777")
    whole = client.chat.completions.create(model="gpt-x", messages=[{"role": "user", "content": question}],
                                           api_key="sk-sdk-secret-777")
    stream = client.chat.completions.create(model="gpt-x", messages=[{"role": "user", "content": question}],
                                            stream=True)
    streamed = " ".join(c.model_dump()["choices"][0]["delta"].get("content") or "" for c in stream
                        if c.model_dump()["choices"]).strip()
    try:
        client.chat.completions.create(model="refused", messages=[])
    except RuntimeError:
        pass
    azure = openai.AzureOpenAI(api_key="k")
    azure.embeddings.create(model="emb-dep", input="abc")
    asyncio.run(AsyncCompletions(client).create(model="gpt-async", messages=[{"role": "user", "content": "x"}]))
    asyncio.run(AsyncEmbeddings(client).create(model="emb-async", input="y"))
    partly = client.chat.completions.create(model="gpt-next", messages=[{"role": "user", "content": "a b"}],
                                            stream=True)
    first = next(partly).model_dump()["choices"][0]["delta"]["content"]
    partly.close()
    return {"whole": whole.model_dump()["choices"][0]["message"]["content"], "streamed": streamed, "first": first,
            "closed": partly.closed}
""",
}


class UserCodeLlmCallsTest(StubTestCase):
    def node_flow(self, tool, conn):
        return {"inputs": {"q": {"type": "string"}}, "outputs": {"a": {"reference": "${ask.output}"}},
                "nodes": [{"name": "ask", "type": "python", "source": {"type": "code", "path": tool},
                           "inputs": {"conn": conn, "question": "${inputs.q}"}}]}

    def conns(self):
        return {"oa": {"type": "OpenAIConnection", "api_key": KEY, "base_url": self.base + "/v1"},
                "az": {"type": "AzureOpenAIConnection", "api_key": KEY, "api_base": self.base,
                       "api_version": "2024-10-21"}}

    def test_a_python_tool_calling_the_api_with_urllib_has_an_llm_span_with_the_usage_and_no_key(self):
        self.files({"ask_urllib.py": URLLIB_TOOL})
        Stub.usage = {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}
        try:
            r = self.run_flow(self.node_flow("ask_urllib.py", "oa"), {"q": "hello"}, connections=self.conns(),
                              trace=True)["result"]
        finally:
            Stub.usage = None
        self.assertEqual(r["status"], "Completed", r.get("error"))
        self.assertEqual(r["outputs"]["a"], "echo: hello")
        llms = [s for s in r["trace"] if s["kind"] == "llm"]
        self.assertEqual(len(llms), 1, [s["name"] for s in r["trace"]])
        [llm] = llms
        ask = [s for s in r["trace"] if s["name"] == "ask"][0]
        self.assertEqual(llm["parentSpanId"], ask["spanId"])
        self.assertEqual(llm["name"], "chat gpt-4o-mini")
        a = llm["attributes"]
        self.assertEqual(a["flowsession.instrumented"], "http.client")
        self.assertEqual((a["gen_ai.system"], a["server.address"]), ("openai", "127.0.0.1"))
        self.assertEqual((a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]), (9, 2))
        self.assertEqual(a["gen_ai.request.temperature"], 0.5)
        self.assertIn("hello", a["flowsession.inputs"])
        self.assertIn("echo: hello", a["flowsession.output"])
        self.assertNotIn(KEY, json.dumps(r["trace"]))

    def test_a_streamed_call_over_http_client_is_traced_to_its_last_chunk(self):
        self.files({"ask_stream.py": HTTP_CLIENT_STREAM_TOOL})
        r = self.run_flow(self.node_flow("ask_stream.py", "az"), {"q": "a b"}, connections=self.conns(),
                          trace=True)["result"]
        self.assertEqual(r["status"], "Completed", r.get("error"))
        self.assertEqual(r["outputs"]["a"], "echo: a b ")
        [llm] = [s for s in r["trace"] if s["kind"] == "llm"]
        a = llm["attributes"]
        self.assertEqual(llm["name"], "chat dep-1")
        self.assertEqual(a["gen_ai.system"], "az.ai.openai")
        self.assertEqual((a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]), (5, 3))
        self.assertEqual(a["flowsession.output"], "echo: a b ")
        self.assertIs(a["flowsession.stream"], True)
        self.assertNotIn(KEY, json.dumps(r["trace"]))

    def test_a_refused_call_is_a_failed_span_and_the_llm_tools_own_calls_are_not_traced_twice(self):
        self.files({"ask_urllib.py": URLLIB_TOOL, "chat.jinja2": "# user:\n{{q}}\n"})
        conns = {"oa": {"type": "OpenAIConnection", "api_key": "wrong-key", "base_url": self.base + "/v1"}}
        r = self.run_flow(self.node_flow("ask_urllib.py", "oa"), {"q": "x"}, connections=conns, trace=True)["result"]
        self.assertEqual(r["status"], "Failed")
        [llm] = [s for s in r["trace"] if s["kind"] == "llm"]
        self.assertEqual(llm["status"], "Error")
        self.assertIn("401", llm["statusMessage"])
        flow = {"inputs": {"q": {"type": "string"}}, "outputs": {"a": {"reference": "${l.output}"}},
                "nodes": [{"name": "l", "type": "llm", "source": {"type": "code", "path": "chat.jinja2"},
                           "connection": "oa", "api": "chat", "inputs": {"q": "${inputs.q}", "model": "m"}}]}
        r = self.run_flow(flow, {"q": "x"}, connections=self.conns(), trace=True)["result"]
        self.assertEqual(r["status"], "Completed", r.get("error"))
        self.assertEqual([s["name"] for s in r["trace"] if s["kind"] == "llm"], ["chat m"])
        self.assertNotIn("flowsession.instrumented", [s for s in r["trace"] if s["kind"] == "llm"][0]["attributes"])


class OpenAiSdkPatchTest(StubTestCase):
    """The patching logic against a package of the SDK's shape (see the module's docstring)."""

    def test_the_sdk_is_patched_when_the_users_code_imports_it(self):
        self.files(FAKE_OPENAI)
        r = self.run_flow({"entry": "sdk_entry:entry"}, {"question": "there"}, kind="flex", trace=True)["result"]
        self.assertEqual(r["status"], "Completed", r.get("error"))
        self.assertEqual(r["outputs"], {"whole": "hi there", "streamed": "hi there", "first": "hi", "closed": True})
        entry = [s for s in r["trace"] if s["name"] == "entry"][0]
        llms = [s for s in r["trace"] if s["kind"] == "llm"]
        self.assertEqual([s["name"] for s in llms],
                         ["chat gpt-x", "chat gpt-x", "chat refused", "embeddings emb-dep", "chat gpt-async",
                          "embeddings emb-async", "chat gpt-next"])
        self.assertTrue(all(s["parentSpanId"] == entry["spanId"] for s in llms))
        self.assertTrue(all(s["attributes"]["flowsession.instrumented"] == "openai" for s in llms))
        whole, streamed, refused, emb, chat_async, emb_async, partly = [s["attributes"] for s in llms]
        # read with next() and closed after its first chunk: what was read, marked incomplete
        self.assertEqual((partly["flowsession.output"], partly["flowsession.stream.incomplete"]), ("hi", True))
        self.assertEqual((whole["gen_ai.usage.input_tokens"], whole["gen_ai.usage.output_tokens"]), (5, 6))
        self.assertEqual(whole["gen_ai.response.id"], "cmpl-1")
        self.assertEqual(whole["server.address"], "stub.invalid")
        self.assertEqual((streamed["gen_ai.usage.output_tokens"], streamed["flowsession.output"]), (2, "hithere"))
        self.assertEqual(streamed["gen_ai.response.finish_reasons"], ["stop"])
        self.assertEqual(llms[2]["status"], "Error")
        self.assertIn("the model is refused", llms[2]["statusMessage"])
        self.assertEqual((emb["gen_ai.system"], emb["gen_ai.operation.name"], emb["gen_ai.usage.input_tokens"]),
                         ("az.ai.openai", "embeddings", 3))
        self.assertEqual(chat_async["gen_ai.usage.input_tokens"], 7)
        self.assertEqual(emb_async["gen_ai.usage.input_tokens"], 4)
        self.assertNotIn("sk-sdk-secret-777", json.dumps(r["trace"]))

    def test_untraced_runs_leave_the_sdk_alone(self):
        self.files(FAKE_OPENAI)
        self.files({"check.py": "def entry() -> bool:\n    import openai.resources.chat as c\n"
                                "    return hasattr(c.Completions.create, '_flowsession_original')\n"})
        r = self.run_flow({"entry": "check:entry"}, {}, kind="flex")["result"]
        self.assertEqual(r["outputs"], {"output": False})


class StreamObserverTest(unittest.TestCase):
    """The observer of a streamed answer keeps bounded memory whatever a server sends down the stream."""

    def test_an_endless_event_line_is_dropped_and_the_next_events_still_count(self):
        from flowsession_runtime import http_calls

        class Call:
            def __init__(self):
                self.chunks, self.ends = [], []

            def chunk(self, c):
                self.chunks.append(c)

            def stream_done(self, complete):
                self.ends.append(complete)

        class Resp:
            def getheader(self, _name):
                return "text/event-stream"

        call = Call()
        watcher = http_calls._Observer(Resp(), call)
        piece = b"data: " + b"x" * (1024 * 1024)
        for _ in range(9):
            watcher.feed(piece)
            self.assertLessEqual(len(watcher.buffer), http_calls._RESPONSE_LIMIT + len(piece))
        watcher.feed(b"still the same line\n")
        watcher.feed(b'data: {"choices": [{"delta": {"content": "ok"}}]}\n\ndata: [DONE]\n')
        watcher.end(True)
        self.assertEqual(call.chunks, [{"choices": [{"delta": {"content": "ok"}}]}])
        self.assertEqual(call.ends, [True])
