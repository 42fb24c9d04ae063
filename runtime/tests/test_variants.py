import json
import os
import time

from tests.helpers import RuntimeTestCase, py_node, write_files


class VariantTest(RuntimeTestCase):
    """--variant picks a node's variant; the results say which variant of each node ran."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        write_files(cls.flow_dir, {
            "shout.py": """
                from promptflow import tool

                @tool
                def shout(text: str, mark: str) -> str:
                    return text.upper() + mark
                """,
            "data.jsonl": '{"text": "a"}\n{"text": "b"}\n',
        })

    def flow(self):
        return {"inputs": {"text": {"type": "string"}},
                "outputs": {"out": {"reference": "${shout.output}"}},
                "nodes": [{"name": "shout", "use_variants": True}],
                "node_variants": {"shout": {"default_variant_id": "variant_0", "variants": {
                    "variant_0": {"node": py_node("shout", "shout.py", {"text": "${inputs.text}", "mark": "!"})},
                    "variant_1": {"node": py_node("shout", "shout.py", {"text": "${inputs.text}", "mark": "?"})}}}}}

    def test_default_and_chosen_variant_in_a_run(self):
        r = self.run_flow(self.flow(), {"text": "hi"})["result"]
        self.assertEqual((r["outputs"], r["variants"]), ({"out": "HI!"}, {"shout": "variant_0"}))
        r = self.run_flow(self.flow(), {"text": "hi"}, variant="${shout.variant_1}")["result"]
        self.assertEqual((r["outputs"], r["variants"]), ({"out": "HI?"}, {"shout": "variant_1"}))

    def test_a_variant_for_each_of_several_nodes(self):
        flow = self.flow()
        flow["outputs"]["again"] = {"reference": "${again.output}"}
        flow["nodes"].append({"name": "again", "use_variants": True})
        flow["node_variants"]["again"] = {"default_variant_id": "a", "variants": {
            "a": {"node": py_node("again", "shout.py", {"text": "${shout.output}", "mark": "+"})},
            "b": {"node": py_node("again", "shout.py", {"text": "${shout.output}", "mark": "-"})}}}
        r = self.run_flow(flow, {"text": "hi"}, variant=["${shout.variant_1}", "${again.b}"])["result"]
        self.assertEqual((r["outputs"], r["variants"]), ({"out": "HI?", "again": "HI?-"},
                                                         {"shout": "variant_1", "again": "b"}))
        r = self.run_flow(flow, {"text": "hi"}, variant=["${again.b}"])["result"]
        self.assertEqual(r["variants"], {"shout": "variant_0", "again": "b"})

    def test_the_trace_says_which_variant_ran(self):
        r = self.run_flow(self.flow(), {"text": "hi"}, variant="${shout.variant_1}", trace=True)["result"]
        node = [s for s in r["trace"] if s["kind"] == "node"][0]
        self.assertEqual(node["attributes"]["flowsession.node.variant"], "variant_1")
        self.assertEqual(node["attributes"]["flowsession.output"], "HI?")

    def test_batch_records_the_variant(self):
        events = []
        r = self.rt.call("batch", {"runId": "v-%d" % time.monotonic_ns(), "flow": self.flow(),
                                   "flowDir": self.flow_dir, "dataPath": "data.jsonl",
                                   "variant": "${shout.variant_1}"}, events=events, timeout=60)["result"]
        self.assertEqual((r["status"], r["variants"]), ("Completed", {"shout": "variant_1"}))
        outs = sorted(e["output"]["out"] for e in events if e.get("event") == "lineEnd")
        self.assertEqual(outs, ["A?", "B?"])

    def test_unknown_variant_or_node_is_refused(self):
        r = self.run_flow(self.flow(), {"text": "hi"}, variant="${shout.variant_9}")["result"]
        self.assertEqual(r["error"]["code"], "InvalidVariant")
        self.assertIn("variant_0", r["error"]["message"])
        r = self.run_flow(self.flow(), {"text": "hi"}, variant="${other.variant_1}")["result"]
        self.assertEqual(r["error"]["code"], "InvalidVariant")
