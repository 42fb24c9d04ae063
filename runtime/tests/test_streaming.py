import os
import time

from tests.helpers import RuntimeTestCase, py_node


class GeneratorToolTest(RuntimeTestCase):
    """A python tool that returns a generator: its chunks stream while it runs, its output is the whole text."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.files(cls, {
            "words.py": """
                import os
                import time
                from promptflow import tool

                @tool
                def words(text: str, gate: str = ""):
                    for i, w in enumerate(text.split()):
                        if i == 1 and gate:
                            # the test opens the gate once it has seen the first chunk (bounded wait)
                            end = time.monotonic() + 20
                            while not os.path.exists(gate) and time.monotonic() < end:
                                time.sleep(0.01)
                        yield w + " "
                """,
            "awords.py": """
                from promptflow import tool

                @tool
                async def awords(text: str):
                    for w in text.split():
                        yield w.upper()
                """,
            "count.py": """
                from promptflow import tool

                @tool
                def count(t: str) -> int:
                    return len(t.split())
                """,
        })

    def flow(self, node, output_ref=None, more=()):
        return {"inputs": {"text": {"type": "string"}}, "outputs": {"answer": {"reference": output_ref or "${gen.output}"}},
                "nodes": [node] + list(more)}

    def test_chunks_stream_before_the_generator_ends(self):
        gate = os.path.join(self.flow_dir, "gate-%d" % time.monotonic_ns())
        flow = self.flow(py_node("gen", "words.py", {"text": "${inputs.text}", "gate": gate}))
        req = self.rt.send("run", {"runId": "gen-1", "flow": flow, "flowDir": self.flow_dir,
                                   "inputs": {"text": "alpha beta gamma"}})
        events = []
        while True:
            msg = self.rt.read(30)
            self.assertNotIn("id", msg, "the run ended before its first chunk was seen: %s" % msg)
            events.append(msg)
            if msg.get("event") == "outputStream":
                break
        self.assertEqual((events[-1]["text"], events[-1]["node"], events[-1]["outputs"]), ("alpha ", "gen", ["answer"]))
        self.assertNotIn("nodeEnd", [e["event"] for e in events])
        open(gate, "w").close()
        resp = self.rt.wait_response(req, 30, events)
        r = resp["result"]
        self.assertEqual(r["outputs"], {"answer": "alpha beta gamma "})
        self.assertEqual([e["text"] for e in events if e["event"] == "outputStream"], ["alpha ", "beta ", "gamma "])
        self.assertEqual(r["detail"]["node_runs"][0]["output"], "alpha beta gamma ")

    def test_async_generator_streams_too(self):
        events = []
        r = self.run_flow(self.flow(py_node("gen", "awords.py", {"text": "${inputs.text}"})), {"text": "a b"},
                          events=events)["result"]
        self.assertEqual(r["outputs"], {"answer": "AB"}, r.get("error"))
        self.assertEqual([e["text"] for e in events if e["event"] == "outputStream"], ["A", "B"])

    def test_downstream_node_gets_the_whole_text_and_nothing_streams(self):
        flow = self.flow(py_node("gen", "words.py", {"text": "${inputs.text}"}), "${count.output}",
                         [py_node("count", "count.py", {"t": "${gen.output}"})])
        events = []
        r = self.run_flow(flow, {"text": "one two three four"}, events=events)["result"]
        self.assertEqual(r["outputs"], {"answer": 4}, r.get("error"))
        self.assertEqual([e for e in events if e["event"] == "outputStream"], [])

    def test_a_single_node_run_streams_its_own_output(self):
        events = []
        flow = self.flow(py_node("gen", "words.py", {"text": "${inputs.text}"}), "${count.output}",
                         [py_node("count", "count.py", {"t": "${gen.output}"})])
        r = self.run_flow(flow, {"text": "x y"}, events=events, node="gen")["result"]
        self.assertEqual(r["outputs"], {"gen": "x y "}, r.get("error"))
        self.assertEqual([(e["text"], e["outputs"]) for e in events if e["event"] == "outputStream"],
                         [("x ", ["gen"]), ("y ", ["gen"])])

    def test_a_batch_records_whole_text_and_streams_nothing(self):
        data = os.path.join(self.flow_dir, "lines.jsonl")
        with open(data, "w") as f:
            f.write('{"text": "p q"}\n{"text": "r"}\n')
        events = []
        r = self.rt.call("batch", {"runId": "gen-batch", "flow": self.flow(py_node("gen", "words.py", {"text": "${inputs.text}"})),
                                   "flowDir": self.flow_dir, "dataPath": data}, events=events)["result"]
        self.assertEqual(r["completed"], 2, r)
        outs = sorted(e["output"]["answer"] for e in events if e["event"] == "lineEnd")
        self.assertEqual(outs, ["p q ", "r "])
        self.assertEqual([e for e in events if e["event"] == "outputStream"], [])
