import json
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from flowsession_runtime import llm
from tests.helpers import RuntimeTestCase, prompt_node, py_node, write_files

KEY = "sk-test-secret-key-000111"


class Stub(BaseHTTPRequestHandler):
    requests = []
    usage = None  # the `usage` chat answers carry, when a test sets it

    def log_message(self, *args):
        pass

    # a tiny PNG served for image inputs given as URLs
    PNG = b"\x89PNG\r\n\x1a\n" + b"stub image bytes"

    def do_GET(self):
        if self.path.startswith("/images/"):
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(Stub.PNG)))
            self.end_headers()
            return self.wfile.write(Stub.PNG)
        return self.reply(404, {"error": {"message": "no such image"}})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Stub.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        auth = self.headers.get("Authorization") or ("Bearer " + (self.headers.get("api-key") or ""))
        if auth != "Bearer " + KEY:
            return self.reply(401, {"error": {"message": "Incorrect API key provided: %s." % auth[7:]}})
        if self.path.startswith("/slow"):
            time.sleep(3)
        if self.path.startswith("/boom"):
            return self.reply(400, {"error": {"message": "model not found"}})
        if "chat/completions" in self.path:
            last = body["messages"][-1]["content"]
            last = last if isinstance(last, str) else json.dumps(last)
            if body.get("stream"):
                return self.stream(["echo: "] + [w + " " for w in last.split()], usage=self.usage_asked(body))
            answer = {"model": body.get("model", "deployed"),
                      "choices": [{"message": {"role": "assistant", "content": "echo: " + last},
                                   "finish_reason": "stop"}]}
            if Stub.usage:
                answer["usage"] = Stub.usage
            return self.reply(200, answer)
        if "embeddings" in self.path:
            return self.reply(200, {"data": [{"embedding": [float(len(body["input"])), 0.5]}]})
        if body.get("stream"):
            return self.stream(["completed: ", body["prompt"]], chat=False, usage=self.usage_asked(body))
        return self.reply(200, {"choices": [{"text": "completed: " + body["prompt"]}]})

    @staticmethod
    def usage_asked(body):
        return (body.get("stream_options") or {}).get("include_usage") is True

    def stream(self, pieces, chat=True, usage=False):
        """Server-sent events as the OpenAI API streams an answer: a delta (or text) per piece, then a usage chunk
        when the request asked for it (`stream_options.include_usage`), as the API sends it."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        if chat:
            chunks = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
            chunks += [{"choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
            chunks += [{"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}]
        else:
            chunks = [{"choices": [{"index": 0, "text": p}]} for p in pieces]
        for c in chunks:
            c["model"] = "streamed-model"
        if usage:
            chunks += [{"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": len(pieces),
                                                 "total_tokens": 5 + len(pieces)}}]
        for c in chunks:
            self.wfile.write(("data: %s\n\n" % json.dumps(c)).encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")

    def reply(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class StubTestCase(RuntimeTestCase):
    """A runtime, and the OpenAI-compatible Stub on loopback at `base`."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
        cls.base = "http://127.0.0.1:%d" % cls.server.server_address[1]
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        super().tearDownClass()

    def setUp(self):
        Stub.requests.clear()


class LlmToolTest(StubTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        write_files(cls.flow_dir, {
            "chat.jinja2": "# system:\nYou are terse.\n\n# user:\n{{ question }}\n",
            "complete.jinja2": "Complete: {{ question }}",
            "text.jinja2": "# user:\n{{ text }} {{ template_text }} {{ inputs }}\n",
            "badrole.jinja2": "system:\nx\n# narrator:\n{{ question }}\n",
        })

    def llm_flow(self, template, conn, api="chat", **inputs):
        node = prompt_node("llm", template, dict({"question": "${inputs.q}"}, **inputs), node_type="llm",
                           connection=conn, api=api)
        return {"inputs": {"q": {"type": "string"}}, "outputs": {"a": {"reference": "${llm.output}"}}, "nodes": [node]}

    def conns(self, base=None, key=KEY):
        return {"oa": {"type": "OpenAIConnection", "api_key": key, "base_url": (base or self.base) + "/v1"},
                "az": {"type": "AzureOpenAIConnection", "api_key": key, "api_base": base or self.base,
                       "api_version": "2024-06-01"}}

    def test_openai_chat(self):
        flow = self.llm_flow("chat.jinja2", "oa", model="gpt-4o", temperature="0.5", max_tokens=20)
        r = self.run_flow(flow, {"q": "hi?"}, connections=self.conns())["result"]
        self.assertEqual(r["outputs"], {"a": "echo: hi?"})
        req = Stub.requests[0]
        self.assertEqual(req["path"], "/v1/chat/completions")
        self.assertEqual(req["headers"]["authorization"], "Bearer " + KEY)
        self.assertEqual(req["body"], {"model": "gpt-4o", "temperature": 0.5, "max_tokens": 20, "messages": [
            {"role": "system", "content": "You are terse."}, {"role": "user", "content": "hi?"}]})

    def test_template_variables_may_have_any_name(self):
        node = prompt_node("llm", "text.jinja2", {"text": "${inputs.q}", "template_text": "two", "inputs": "three", "model": "gpt-4o"},
                           node_type="llm", connection="oa", api="chat")
        flow = {"inputs": {"q": {"type": "string"}}, "outputs": {"a": {"reference": "${llm.output}"}}, "nodes": [node]}
        r = self.run_flow(flow, {"q": "one"}, connections=self.conns())["result"]
        self.assertEqual(r["status"], "Completed", r.get("error"))
        self.assertEqual(r["outputs"], {"a": "echo: one two three"})

    def test_azure_chat_and_completion(self):
        flow = self.llm_flow("chat.jinja2", "az", deployment_name="dep1")
        r = self.run_flow(flow, {"q": "yo"}, connections=self.conns())["result"]
        self.assertEqual(r["outputs"], {"a": "echo: yo"})
        req = Stub.requests[0]
        self.assertEqual(req["path"], "/openai/deployments/dep1/chat/completions?api-version=2024-06-01")
        self.assertEqual(req["headers"]["api-key"], KEY)
        self.assertNotIn("model", req["body"])
        flow = self.llm_flow("complete.jinja2", "az", api="completion", deployment_name="dep2")
        r = self.run_flow(flow, {"q": "abc"}, connections=self.conns())["result"]
        self.assertEqual(r["outputs"], {"a": "completed: Complete: abc"})
        self.assertEqual(Stub.requests[1]["path"], "/openai/deployments/dep2/completions?api-version=2024-06-01")

    def test_openai_completion(self):
        flow = self.llm_flow("complete.jinja2", "oa", api="completion", model="gpt-3.5-turbo-instruct")
        r = self.run_flow(flow, {"q": "z"}, connections=self.conns())["result"]
        self.assertEqual(r["outputs"], {"a": "completed: Complete: z"})
        self.assertEqual(Stub.requests[0]["path"], "/v1/completions")

    def test_bad_key_gives_401_with_remedy_and_no_secret(self):
        bad = "sk-wrong-key-999888777"
        flow = self.llm_flow("chat.jinja2", "oa", model="m")
        events = []
        resp = self.run_flow(flow, {"q": "x"}, connections=self.conns(key=bad), events=events)
        err = resp["result"]["error"]
        self.assertEqual((err["code"], err["innerCode"]), ("ToolExecutionError", "WrappedOpenAIError"))
        self.assertIn("(HTTP 401)", err["message"])
        self.assertIn("Set Connection", err["message"])
        self.assertNotIn(bad, json.dumps(resp) + json.dumps(events))
        self.assertEqual(len(Stub.requests), 1)  # 401 is not retried

    def test_timeout(self):
        flow = self.llm_flow("chat.jinja2", "az", deployment_name="d")
        t0 = time.monotonic()
        r = self.run_flow(flow, {"q": "x"}, connections=self.conns(base=self.base + "/slow"),
                          llmTimeoutSeconds=0.5)["result"]
        self.assertLess(time.monotonic() - t0, 2.5)
        self.assertIn("APITimeoutError: Request timed out after 0.5 seconds", r["error"]["message"])

    def test_server_error_message(self):
        flow = self.llm_flow("chat.jinja2", "az", deployment_name="d")
        r = self.run_flow(flow, {"q": "x"}, connections=self.conns(base=self.base + "/boom"))["result"]
        self.assertIn("BadRequestError: model not found (HTTP 400)", r["error"]["message"])

    def test_invalid_role(self):
        flow = self.llm_flow("badrole.jinja2", "oa", model="m")
        r = self.run_flow(flow, {"q": "x"}, connections=self.conns())["result"]
        self.assertEqual(r["error"]["innerCode"], "ChatAPIInvalidRole")
        self.assertIn("Current parsed role 'narrator' does not meet the requirement", r["error"]["message"])
        self.assertEqual(Stub.requests, [])

    def test_stream_true_streams_the_answer_and_records_the_whole_text(self):
        flow = self.llm_flow("chat.jinja2", "oa", model="gpt-4o", stream="true")
        events = []
        r = self.run_flow(flow, {"q": "one two three"}, connections=self.conns(), events=events)["result"]
        self.assertEqual(r["status"], "Completed", r.get("error"))
        self.assertEqual(r["outputs"], {"a": "echo: one two three "})
        self.assertIs(Stub.requests[0]["body"]["stream"], True)
        chunks = [e for e in events if e["event"] == "outputStream"]
        self.assertEqual([c["text"] for c in chunks], ["echo: ", "one ", "two ", "three "])
        self.assertEqual({(c["node"], tuple(c["outputs"])) for c in chunks}, {("llm", ("a",))})
        end = [e for e in events if e["event"] == "nodeEnd"][0]
        self.assertLess(events.index(chunks[-1]), events.index(end))
        self.assertEqual(end["output"], "echo: one two three ")
        self.assertEqual(r["detail"]["node_runs"][0]["output"], "echo: one two three ")

    def test_stream_true_with_the_completion_api(self):
        flow = self.llm_flow("complete.jinja2", "az", api="completion", deployment_name="d", stream=True)
        events = []
        r = self.run_flow(flow, {"q": "z"}, connections=self.conns(), events=events)["result"]
        self.assertEqual(r["outputs"], {"a": "completed: Complete: z"}, r.get("error"))
        self.assertEqual([e["text"] for e in events if e["event"] == "outputStream"], ["completed: ", "Complete: z"])

    def test_a_downstream_node_receives_the_whole_streamed_text(self):
        self.files({"shout.py": "from promptflow import tool\n\n@tool\ndef shout(t: str) -> str:\n"
                                "    assert isinstance(t, str), type(t)\n    return t.upper()\n"})
        flow = self.llm_flow("chat.jinja2", "oa", model="gpt-4o", stream=True)
        flow["nodes"].append(py_node("shout", "shout.py", {"t": "${llm.output}"}))
        flow["outputs"] = {"a": {"reference": "${shout.output}"}}
        events = []
        r = self.run_flow(flow, {"q": "hi there"}, connections=self.conns(), events=events)["result"]
        self.assertEqual(r["outputs"], {"a": "ECHO: HI THERE "}, r.get("error"))
        # only a flow output's chunks are shown; an intermediate node's are not
        self.assertEqual([e for e in events if e["event"] == "outputStream"], [])

    def test_missing_connection(self):
        flow = self.llm_flow("chat.jinja2", "ghost", model="m")
        r = self.run_flow(flow, {"q": "x"}, connections=self.conns())["result"]
        self.assertEqual((r["error"]["code"], r["error"]["node"]), ("ConnectionNotFound", "llm"))


class ParseChatTest(unittest.TestCase):
    def test_roles_with_and_without_hash(self):
        msgs = llm.parse_chat("system:\nBe brief.\n#User:\nHello\n\n  # assistant :  \nHi\nuser:\nname:\nbob\ncontent:\nyo\n")
        self.assertEqual(msgs, [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"},
                                {"role": "assistant", "content": "Hi"}, {"role": "user", "name": "bob",
                                                                        "content": "yo"}])

    def test_text_before_the_first_role_is_an_invalid_role(self):
        with self.assertRaises(llm.ChatAPIInvalidRole) as cm:
            llm.parse_chat("Just a prompt\nuser:\nhi\n")
        self.assertIn("Current parsed role 'just a prompt'", str(cm.exception))
        self.assertIn("'system:\\n','user:\\n','assistant:\\n','function:\\n','tool:\\n'", str(cm.exception))

    def test_tool_and_function_roles(self):
        msgs = llm.parse_chat("user:\nq\ntool:\ntool_call_id:\ncall_1\ncontent:\n42\n")
        self.assertEqual(msgs[1], {"role": "tool", "tool_call_id": "call_1", "content": "42"})
        with self.assertRaises(llm.ChatAPIFunctionRoleInvalidFormat):
            llm.parse_chat("function:\nno name here\n")
