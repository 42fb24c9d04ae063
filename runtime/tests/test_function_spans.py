import json

from tests.test_llm import StubTestCase

# a flex entry calling @trace functions: nested, one failing (caught), a generator, a method, an LLM call inside
TRACED_ENTRY = """
import asyncio
import json
import urllib.request
from promptflow.tracing import trace


@trace
def shout(text: str) -> str:
    return inner(text).upper()


@trace
def inner(text):
    return text + "!"


@trace
def broken(secret: str):
    raise ValueError("cannot use " + secret)


@trace
def pieces(n):
    for i in range(n):
        yield "p%d" % i


@trace
async def apieces(n):
    for i in range(n):
        yield "a%d" % i


async def collect():
    return "".join([p async for p in apieces(2)])


class Helper:
    @trace
    def twice(self, text, big=None):
        return text * 2


def entry(question: str, secret: str = "none") -> dict:
    try:
        broken(secret)
    except ValueError:
        pass
    return {"shout": shout(question), "pieces": "".join(pieces(2)), "twice": Helper().twice("ab", big="x" * 9000),
            "apieces": asyncio.run(collect())}
"""


class FunctionSpansTest(StubTestCase):
    def spans(self, result):
        self.assertEqual(result["status"], "Completed", result.get("error"))
        return {s["name"]: s for s in result["trace"]}

    def test_a_flex_run_has_a_root_the_entry_and_nested_function_spans(self):
        self.files({"traced.py": TRACED_ENTRY})
        r = self.run_flow({"entry": "traced:entry"}, {"question": "hi", "secret": "sk-hidden-4242"}, kind="flex",
                          trace=True, connections={"c": {"type": "CustomConnection",
                                                         "secrets": {"k": "sk-hidden-4242"}}})["result"]
        spans = self.spans(r)
        self.assertEqual(r["outputs"], {"shout": "HI!", "pieces": "p0p1", "twice": "abab", "apieces": "a0a1"})
        root, entry = spans["flow"], spans["entry"]
        self.assertNotIn("parentSpanId", root)
        self.assertEqual((entry["parentSpanId"], entry["kind"]), (root["spanId"], "node"))
        self.assertEqual(entry["attributes"]["flowsession.node.type"], "flex")
        shout, inner = spans["shout"], spans["inner"]
        self.assertEqual((shout["parentSpanId"], shout["kind"]), (entry["spanId"], "function"))
        self.assertEqual(inner["parentSpanId"], shout["spanId"])
        self.assertEqual(json.loads(inner["attributes"]["flowsession.inputs"]), {"text": "hi"})
        self.assertEqual(inner["attributes"]["flowsession.output"], "hi!")
        self.assertEqual(shout["attributes"]["flowsession.output"], "HI!")
        self.assertEqual(spans["pieces"]["attributes"]["flowsession.output"], "p0p1")
        self.assertEqual(spans["apieces"]["attributes"]["flowsession.output"], "a0a1")
        self.assertEqual(spans["apieces"]["parentSpanId"], entry["spanId"])
        twice = spans["Helper.twice"]
        self.assertEqual(twice["parentSpanId"], entry["spanId"])
        # no `self` among a method's inputs, and a big input cut to the size limit
        self.assertTrue(twice["attributes"]["flowsession.inputs"].startswith('{"text":"ab","big":"xxx'))
        self.assertLessEqual(len(twice["attributes"]["flowsession.inputs"]), 4096 + 40, "inputs cut to the limit")
        broken = spans["broken"]
        self.assertEqual(broken["status"], "Error")
        self.assertEqual(broken["attributes"]["error.type"], "ValueError")
        self.assertIn("cannot use", broken["statusMessage"])
        self.assertNotIn("sk-hidden-4242", json.dumps(r["trace"]), "the connection's secret is redacted")
        for s in (shout, inner, broken):
            self.assertLessEqual(int(entry["start"]), int(s["start"]))
            self.assertLessEqual(int(s["end"]), int(entry["end"]))

    def test_trace_outside_a_traced_run_only_calls_the_function(self):
        self.files({"traced.py": TRACED_ENTRY})
        r = self.run_flow({"entry": "traced:entry"}, {"question": "hi"}, kind="flex")["result"]
        self.assertEqual(r["outputs"]["shout"], "HI!")
        self.assertNotIn("trace", r)

    def test_a_python_node_calling_traced_functions_nests_them_under_the_node(self):
        self.files({"traced.py": TRACED_ENTRY, "node.py": "from promptflow import tool\nfrom traced import shout\n\n"
                                                           "@tool\ndef node(q: str) -> str:\n    return shout(q)\n"})
        flow = {"inputs": {"q": {"type": "string"}}, "outputs": {"a": {"reference": "${n.output}"}},
                "nodes": [{"name": "n", "type": "python", "source": {"type": "code", "path": "node.py"},
                           "inputs": {"q": "${inputs.q}"}}]}
        spans = self.spans(self.run_flow(flow, {"q": "x"}, trace=True)["result"])
        self.assertEqual(spans["shout"]["parentSpanId"], spans["n"]["spanId"])
        self.assertEqual(spans["inner"]["parentSpanId"], spans["shout"]["spanId"])

    def test_a_flex_batch_has_a_line_span_per_line_with_the_entry_under_it(self):
        self.files({"traced.py": TRACED_ENTRY,
                    "lines.jsonl": "\n".join(json.dumps({"question": q}) for q in ("a", "b")) + "\n"})
        events = []
        r = self.rt.call("batch", {"runId": "b1", "flow": {"entry": "traced:entry"}, "kind": "flex", "trace": True,
                                   "flowDir": self.flow_dir, "dataPath": "lines.jsonl", "workers": 1},
                         events=events)["result"]
        self.assertEqual(r["failed"], 0, r)
        spans = list(r["trace"]) + [s for e in events if e.get("event") == "lineEnd" for s in e.get("trace") or []]
        lines = [s for s in spans if s["name"].startswith("line ")]
        self.assertEqual(len(lines), 2, [s["name"] for s in spans])
        for line in lines:
            self.assertTrue(any(s["name"] == "entry" and s.get("parentSpanId") == line["spanId"] for s in spans))

