import json
import os
import unittest

from tests.helpers import Runtime, prompt_node, py_node, write_files
from tests.test_llm import KEY, Stub, StubTestCase


class TracingTest(StubTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rt_files = {
            "chat.jinja2": "# system:\nBe terse.\n\n# user:\n{{ question }}\n",
            "up.py": """
                from promptflow import tool

                @tool
                def up(text: str) -> str:
                    return text.upper()
                """,
            "leak.py": """
                from promptflow import tool
                from promptflow.connections import CustomConnection

                @tool
                def leak(c: CustomConnection, text: str) -> str:
                    if text == "raise":
                        raise RuntimeError("the key is " + c.secret_key)
                    return "the key is " + c.secret_key
                """,
        }

    def setUp(self):
        super().setUp()
        self.files(self.rt_files)

    def flow(self):
        return {"inputs": {"q": {"type": "string"}}, "outputs": {"a": {"reference": "${ask.output}"}},
                "nodes": [py_node("shout", "up.py", {"text": "${inputs.q}"}),
                          prompt_node("ask", "chat.jinja2", {"question": "${shout.output}", "model": "gpt-4o",
                                                             "temperature": "0"},
                                      node_type="llm", connection="oa", api="chat")]}

    def conns(self):
        return {"oa": {"type": "OpenAIConnection", "api_key": KEY, "base_url": self.base + "/v1"},
                "custom": {"type": "CustomConnection", "secrets": {"secret_key": "hush-hush-0042"}}}

    def test_a_run_has_a_flow_span_node_spans_and_an_llm_span_with_usage(self):
        Stub.usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
        try:
            r = self.run_flow(self.flow(), {"q": "hi"}, connections=self.conns(), trace=True)["result"]
        finally:
            Stub.usage = None
        self.assertEqual(r["status"], "Completed", r.get("error"))
        spans = {s["name"]: s for s in r["trace"]}
        self.assertEqual(set(spans), {"flow", "shout", "ask", "chat gpt-4o"})
        root = spans["flow"]
        self.assertNotIn("parentSpanId", root)
        self.assertEqual(len(root["traceId"]), 32)
        self.assertEqual({s["traceId"] for s in r["trace"]}, {root["traceId"]})
        self.assertEqual(spans["shout"]["parentSpanId"], root["spanId"])
        self.assertEqual(spans["ask"]["parentSpanId"], root["spanId"])
        llm = spans["chat gpt-4o"]
        self.assertEqual(llm["parentSpanId"], spans["ask"]["spanId"])
        self.assertEqual(llm["kind"], "llm")
        a = llm["attributes"]
        self.assertEqual((a["gen_ai.system"], a["gen_ai.operation.name"], a["gen_ai.request.model"]),
                         ("openai", "chat", "gpt-4o"))
        self.assertEqual((a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"],
                          a["flowsession.usage.total_tokens"]), (7, 3, 10))
        self.assertEqual(a["gen_ai.request.temperature"], 0)
        self.assertIn("HI", a["flowsession.inputs"])
        self.assertIn("echo: HI", a["flowsession.output"])
        self.assertEqual(spans["shout"]["attributes"]["flowsession.output"], "HI")
        self.assertLessEqual(int(root["start"]), int(spans["shout"]["start"]))
        self.assertLessEqual(int(spans["ask"]["end"]), int(root["end"]))
        self.assertNotIn(KEY, json.dumps(r["trace"]))

    def test_no_trace_unless_asked(self):
        r = self.run_flow(self.flow(), {"q": "hi"}, connections=self.conns())["result"]
        self.assertNotIn("trace", r)

    def test_a_failed_node_and_secrets_in_outputs_and_exceptions(self):
        flow = {"inputs": {"t": {"type": "string"}}, "outputs": {"o": {"reference": "${leak.output}"}},
                "nodes": [py_node("leak", "leak.py", {"c": "custom", "text": "${inputs.t}"})]}
        for text in ("echo", "raise"):
            r = self.run_flow(flow, {"t": text}, connections=self.conns(), trace=True)["result"]
            dumped = json.dumps(r["trace"])
            self.assertNotIn("hush-hush-0042", dumped)
            self.assertNotIn(KEY, dumped)
            node = [s for s in r["trace"] if s["name"] == "leak"][0]
            if text == "raise":
                self.assertEqual(node["status"], "Error")
                self.assertIn("the key is ***", node["statusMessage"])
            else:
                self.assertEqual(node["status"], "Ok")
                self.assertIn("***", node["attributes"]["flowsession.output"])

    def test_pf_disable_tracing_in_the_flows_environment_variables_turns_tracing_off(self):
        with open(os.path.join(self.flow_dir, "lines.jsonl"), "w") as f:
            f.write('{"q": "a"}\n{"q": "b"}\n')
        # (None: no environment_variables at all, after a flow that turned tracing off: nothing carries over)
        for n, (value, traced) in enumerate((("true", False), (None, True), ("True", False), (True, False),
                                             ("false", True), ("", True))):
            flow = self.flow() if value is None else dict(self.flow(), environment_variables={"PF_DISABLE_TRACING": value})
            r = self.run_flow(flow, {"q": "hi"}, connections=self.conns(), trace=True)["result"]
            self.assertEqual(r["status"], "Completed", r.get("error"))
            self.assertEqual(bool(r.get("trace")), traced, value)
            events = []
            b = self.rt.call("batch", {"runId": "b-off-%d" % n, "flow": flow, "flowDir": self.flow_dir,
                                       "dataPath": "lines.jsonl", "connections": self.conns(), "trace": True,
                                       "traceRecords": True, "columnMapping": {"q": "${data.q}"}}, events=events)["result"]
            self.assertEqual(b["completed"], 2, b)
            self.assertEqual(bool(b.get("trace")), traced, value)
            self.assertEqual(any(e.get("event") == "traceSteps" for e in events), traced, value)
            self.assertEqual(any("traceRecord" in e for e in events), traced, value)

    def test_pf_disable_tracing_in_the_sessions_environment_turns_tracing_off_unless_the_flow_says_otherwise(self):
        rt = Runtime(self.flow_dir, {"PF_DISABLE_TRACING": "TRUE"})
        try:
            for flow, traced in ((self.flow(), False),
                                 (dict(self.flow(), environment_variables={"PF_DISABLE_TRACING": "false"}), True)):
                r = rt.call("run", {"runId": "env-%s" % traced, "flow": flow, "flowDir": self.flow_dir,
                                    "inputs": {"q": "hi"}, "connections": self.conns(), "trace": True})["result"]
                self.assertEqual(r["status"], "Completed", r.get("error"))
                self.assertEqual(bool(r.get("trace")), traced)
        finally:
            rt.close()

    def test_a_batch_has_one_trace_with_a_span_per_line(self):
        data = os.path.join(self.flow_dir, "lines.jsonl")
        with open(data, "w") as f:
            f.write("\n".join(json.dumps({"q": "l%d" % i}) for i in range(3)) + "\n")
        events = []
        resp = self.rt.call("batch", {"runId": "b-trace", "flow": self.flow(), "flowDir": self.flow_dir,
                                      "dataPath": "lines.jsonl", "workers": 2, "connections": self.conns(),
                                      "trace": True}, events=events)
        r = resp["result"]
        self.assertEqual(r["failed"], 0, r)
        root = [s for s in r["trace"] if s["name"] == "batch"][0]
        lines = [e for e in events if e.get("event") == "lineEnd"]
        self.assertEqual(len(lines), 3)
        for e in lines:
            names = {s["name"]: s for s in e["trace"]}
            line = names["line %d" % e["index"]]
            self.assertEqual(line["parentSpanId"], root["spanId"])
            self.assertEqual(line["traceId"], root["traceId"])
            self.assertEqual(names["ask"]["parentSpanId"], line["spanId"])
            self.assertIn("chat gpt-4o", names)

    def recorded_batch(self, run_id, lines, flow=None, connections=None):
        data = os.path.join(self.flow_dir, "lines-%s.jsonl" % run_id)
        with open(data, "w") as f:
            f.write("\n".join(json.dumps({"q": "l%d" % i}) for i in range(lines)) + "\n")
        events = []
        p = {"runId": run_id, "flow": flow or self.flow(), "flowDir": self.flow_dir, "dataPath": data, "workers": 2,
             "connections": self.conns() if connections is None else connections, "trace": True,
             "traceRecords": True}
        Stub.usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
        try:
            r = self.rt.call("batch", p, events=events)["result"]
        finally:
            Stub.usage = None
        return r, events

    def test_a_batch_sends_each_lines_own_spans_as_a_record_and_what_they_share_once(self):
        r, events = self.recorded_batch("b-rec", 3)
        self.assertEqual(r["failed"], 0, r)
        root = [s for s in r["trace"] if s["name"] == "batch"][0]
        kinds = [e.get("event") for e in events]
        self.assertEqual(kinds.count("traceSteps"), 1)
        self.assertLess(kinds.index("traceSteps"), kinds.index("lineEnd"), "the table comes before the lines")
        table = events[kinds.index("traceSteps")]
        self.assertEqual((table["traceId"], table["parentSpanId"]), (root["traceId"], root["spanId"]))
        self.assertEqual([(s["name"], s["attributes"]) for s in table["steps"]], [
            ("shout", {"flowsession.node.name": "shout", "span_type": "Function", "flowsession.node.type": "python"}),
            ("ask", {"flowsession.node.name": "ask", "span_type": "LLM", "flowsession.node.type": "llm"})])
        lines = [e for e in events if e.get("event") == "lineEnd"]
        self.assertEqual(len(lines), 3)
        for e in lines:
            self.assertNotIn("trace", e)
            start, end, ids, ok, steps, extra = e["traceRecord"]
            self.assertRegex(start, r"^\d{19}$")
            self.assertRegex(ids, r"^[0-9a-f]{48}$", "the root's id and one per step: the LLM call named its parent")
            self.assertTrue(ok)
            # a step that completed has no status
            (shout, s0, e0, in0, out0), (ask, s1, e1, in1, out1) = steps
            self.assertEqual((shout, ask), (0, 1))
            self.assertTrue(0 <= s0 <= e0 <= s1 <= e1 <= end, e["traceRecord"])
            # with secrets to hide, every value is its redacted text
            self.assertEqual((in0, out0), ('{"text":"l%d"}' % e["index"], "L%d" % e["index"]))
            self.assertIsInstance(in1, str)
            # the LLM call inside `ask` is a whole span, under ask's id (the third in ids)
            llm, = extra["spans"]
            self.assertEqual((llm["name"], llm["kind"], llm["traceId"]), ("chat gpt-4o", "llm", root["traceId"]))
            self.assertEqual(llm["parentSpanId"], ids[32:48])
            # with secrets to hide, the line's own values come redacted in the record
            self.assertEqual(extra["inputs"], '{"q":"l%d"}' % e["index"])
            self.assertEqual(llm["attributes"]["gen_ai.usage.input_tokens"], 7)
        self.assertNotIn(KEY, json.dumps(events))
        self.assertEqual(len({e["traceRecord"][2] for e in lines}), 3, "every line draws its own ids")

    def test_a_recorded_line_keeps_plain_values_as_they_are_and_cuts_the_rest(self):
        flow = {"inputs": {"q": {"type": "string"}}, "outputs": {"a": {"reference": "${shout.output}"}},
                "nodes": [py_node("shout", "up.py", {"text": "${inputs.q}"})]}
        with open(os.path.join(self.flow_dir, "lines-long.jsonl"), "w") as f:
            f.write(json.dumps({"q": "é" * 2000}) + "\n")
        events = []
        r = self.rt.call("batch", {"runId": "b-plain", "flow": flow, "flowDir": self.flow_dir,
                                   "dataPath": "lines-long.jsonl", "workers": 1, "connections": {}, "trace": True,
                                   "traceRecords": True}, events=events)["result"]
        self.assertEqual(r["failed"], 0, r)
        rec = [e for e in events if e.get("event") == "lineEnd"][0]["traceRecord"]
        (_i, _s, _e, inputs, output), = rec[4]
        self.assertEqual(len(output), 1024 + len("[truncated]"))
        self.assertTrue(output.startswith("É" * 1024) and output.endswith("[truncated]"))
        # a dict of a long text is no plain value: it is text, cut
        self.assertIsInstance(inputs, str)
        self.assertTrue(inputs.startswith('{"text":"éé') and inputs.endswith("[truncated]"), inputs[:40])
        self.assertEqual(len(rec), 5, "without secrets the host writes the line's own inputs and output")
        r, events = self.recorded_batch("b-plain2", 2, flow=flow, connections={})
        recs = [e["traceRecord"] for e in events if e.get("event") == "lineEnd"]
        self.assertEqual([rec[4][0][3] for rec in recs], [True, True], "inputs the table names are not sent")
        self.assertEqual({rec[2] for rec in recs}, {""},
                         "nothing inside the lines named a parent: the host draws the ids")

    def test_a_recorded_line_names_the_inputs_the_table_says_where_from_when_their_values_are_plain(self):
        write_files(self.flow_dir, {"pair.py": """
from promptflow import tool

@tool
def pair(a, b, sep: str, t: float) -> dict:
    return {"x": "%s%s%s" % (a, sep, b)}
"""})
        flow = {"inputs": {"q": {"type": "string"}}, "outputs": {"a": {"reference": "${pair.output}"}},
                "nodes": [py_node("shout", "up.py", {"text": "${inputs.q}"}),
                          py_node("pair", "pair.py", {"a": "${shout.output}", "b": "${inputs.q}", "sep": " + ",
                                                      "t": 0.5}),
                          py_node("deep", "pair.py", {"a": "${inputs.q}", "b": "${pair.output.x}", "sep": "",
                                                      "t": 1})]}
        data = os.path.join(self.flow_dir, "lines-named.jsonl")
        with open(data, "w") as f:
            f.write(json.dumps({"q": "plain"}) + "\n" + json.dumps({"q": "é"}) + "\n")
        events = []
        self.rt.call("batch", {"runId": "b-named", "flow": flow, "flowDir": self.flow_dir, "dataPath": data,
                               "workers": 1, "connections": {}, "trace": True, "traceRecords": True}, events=events)
        table = [e for e in events if e.get("event") == "traceSteps"][0]
        self.assertEqual([s.get("inputs") for s in table["steps"]], [
            [["text", "input", "q"]],
            [["a", "step", 0], ["b", "input", "q"], ["sep", "value", '" + "'], ["t", "value", "0.5"]],
            None], "a literal as the runtime writes its JSON; a path into a value is not named")
        lines = sorted((e for e in events if e.get("event") == "lineEnd"), key=lambda e: e["index"])
        plain, wide = [[step[3] for step in e["traceRecord"][4]] for e in lines]
        self.assertEqual(plain[:2], [True, True])
        self.assertEqual(plain[2], '{"a":"plain","b":"PLAIN + plain","t":1.0}',
                         "a step the table does not name sends them (a literal as the tool's type makes it)")
        self.assertEqual(wide[:2], ['{"text":"é"}', '{"a":"É","b":"é","sep":" + ","t":0.5}'],
                         "a text that is not ASCII is sent as the runtime's text")

    def test_a_recorded_step_that_failed_says_why(self):
        r, events = self.recorded_batch("b-fail", 1, flow={
            "inputs": {"q": {"type": "string"}}, "outputs": {"a": {"reference": "${leak.output}"}},
            "nodes": [py_node("leak", "leak.py", {"c": "custom", "text": "raise"})]})
        self.assertEqual(r["failed"], 1, r)
        _start, _end, _ids, ok, steps, extra = [e for e in events if e.get("event") == "lineEnd"][0]["traceRecord"]
        self.assertFalse(ok)
        self.assertIn("***", extra["message"])
        (_i, _s, _e, _in, output, status, error_type, message), = steps
        self.assertEqual((status, output), ("Failed", None))
        self.assertTrue(error_type)
        self.assertIn("the key is ***", message)
        self.assertNotIn("hush-hush-0042", json.dumps(events))

    def streamed_flow(self, conn, **extra):
        inputs = dict({"question": "${inputs.q}", "stream": "true"}, **extra)
        return {"inputs": {"q": {"type": "string"}}, "outputs": {"a": {"reference": "${ask.output}"}},
                "nodes": [prompt_node("ask", "chat.jinja2", inputs, node_type="llm", connection=conn, api="chat")]}

    def test_a_streamed_call_is_one_llm_span_to_its_last_chunk_with_the_usage_it_asked_for(self):
        r = self.run_flow(self.streamed_flow("oa", model="gpt-4o"), {"q": "one two"}, connections=self.conns(),
                          trace=True)["result"]
        self.assertEqual(r["status"], "Completed", r.get("error"))
        self.assertEqual(r["outputs"]["a"], "echo: one two ")
        self.assertEqual(Stub.requests[-1]["body"]["stream_options"], {"include_usage": True})
        spans = {s["name"]: s for s in r["trace"]}
        llm = spans["chat gpt-4o"]
        self.assertEqual(llm["parentSpanId"], spans["ask"]["spanId"])
        self.assertEqual(llm["status"], "Ok")
        a = llm["attributes"]
        self.assertIs(a["flowsession.stream"], True)
        self.assertEqual(a["gen_ai.response.model"], "streamed-model")
        # the stub streams "echo: ", "one ", "two ": 3 pieces, and counts 5 prompt tokens
        self.assertEqual((a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"],
                          a["flowsession.usage.total_tokens"]), (5, 3, 8))
        self.assertEqual(a["gen_ai.response.finish_reasons"], ["stop"])
        self.assertEqual(a["flowsession.output"], "echo: one two ")
        self.assertLessEqual(0, a["flowsession.time_to_first_token_ms"])
        self.assertLessEqual(a["flowsession.time_to_first_token_ms"], a["flowsession.latency_ms"])
        self.assertLessEqual(int(llm["end"]), int(spans["ask"]["end"]))

    def test_a_streamed_call_on_an_old_azure_api_version_does_not_ask_for_usage(self):
        conns = {"az": {"type": "AzureOpenAIConnection", "api_key": KEY, "api_base": self.base,
                        "api_version": "2024-06-01"}}
        r = self.run_flow(self.streamed_flow("az", deployment_name="dep"), {"q": "x"}, connections=conns,
                          trace=True)["result"]
        self.assertEqual(r["status"], "Completed", r.get("error"))
        self.assertNotIn("stream_options", Stub.requests[-1]["body"])
        llm = {s["name"]: s for s in r["trace"]}["chat dep"]
        self.assertEqual(llm["attributes"]["gen_ai.system"], "az.ai.openai")
        self.assertNotIn("gen_ai.usage.input_tokens", llm["attributes"])
        self.assertEqual(llm["attributes"]["flowsession.output"], "echo: x ")

    def test_a_refused_streamed_call_is_a_failed_llm_span(self):
        conns = {"oa": {"type": "OpenAIConnection", "api_key": KEY, "base_url": self.base + "/boom/v1"}}
        r = self.run_flow(self.streamed_flow("oa", model="m"), {"q": "x"}, connections=conns, trace=True)["result"]
        self.assertEqual(r["status"], "Failed")
        llm = {s["name"]: s for s in r["trace"]}["chat m"]
        self.assertEqual(llm["status"], "Error")
        self.assertIn("model not found", llm["statusMessage"])


class ValueTextTest(unittest.TestCase):
    def test_a_secret_across_the_cut_is_masked_before_cutting(self):
        from flowsession_runtime import capture, tracing
        redact = capture.Redactor(["sk-secret-0123456789"])
        text = tracing.value_text("x" * 10 + "sk-secret-0123456789", redact, limit=15)
        self.assertEqual(text, "x" * 10 + "***")
        self.assertNotIn("sk-sec", tracing.value_text({"k": "a" * 5 + "sk-secret-0123456789"}, redact, limit=12))
