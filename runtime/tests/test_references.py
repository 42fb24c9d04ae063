"""The ${...} reference grammar, from the table the TypeScript checks run too, and what a run makes of it."""
import json
import os
import unittest

from flowsession_runtime import flowdef
from tests.helpers import RUNTIME_DIR, RuntimeTestCase, py_node

# the repository's test/fixtures, or the same layout next to the runtime in the test container
GRAMMAR = os.path.join(os.path.dirname(RUNTIME_DIR), "test", "fixtures", "referenceGrammar.json")


def as_case(ref):
    if ref is None:
        return None
    if ref.kind == "input":
        return {"kind": "flow-input", "name": ref.name}
    return {"kind": "node", "node": ref.name, "section": ref.section, "property": ref.property}


class ReferenceGrammarTest(unittest.TestCase):
    def test_reads_every_case_of_the_shared_table(self):
        with open(GRAMMAR, encoding="utf-8") as f:
            cases = json.load(f)["cases"]
        self.assertGreater(len(cases), 20)
        for case in cases:
            with self.subTest(value=case["value"], why=case["why"]):
                self.assertEqual(as_case(flowdef.parse_value(case["value"])), case["reference"])

    def test_splits_a_property_into_keys_and_indexes(self):
        self.assertEqual(flowdef.parse_value("${a.output.items[1].name}").path, ["items", 1, "name"])
        self.assertEqual(flowdef.parse_value("${inputs.q}").path, [])


class ReferenceRunTest(RuntimeTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from tests.helpers import write_files
        write_files(cls.flow_dir, {
            "echo.py": """
                from promptflow import tool

                @tool
                def echo(value=None):
                    return value
                """,
        })

    def test_flow_prefix_and_literals_that_look_like_references(self):
        flow = {"inputs": {"q": {"type": "string"}},
                "outputs": {"a": {"reference": "${a.output}"}, "b": {"reference": "${b.output}"}},
                "nodes": [py_node("a", "echo.py", {"value": "${flow.q}"}),
                          py_node("b", "echo.py", {"value": " ${inputs.q}"})]}
        r = self.run_flow(flow, {"q": "hi"})["result"]
        self.assertEqual(r["status"], "Completed", r.get("error"))
        self.assertEqual(r["outputs"], {"a": "hi", "b": " ${inputs.q}"})

    def test_a_section_other_than_output_is_refused_when_run(self):
        flow = {"inputs": {}, "outputs": {"o": {"reference": "${b.output}"}},
                "nodes": [py_node("a", "echo.py", {"value": "A"}), py_node("b", "echo.py", {"value": "${a.result}"})]}
        r = self.run_flow(flow)["result"]
        self.assertEqual(r["status"], "Failed")
        self.assertEqual(r["error"]["code"], "UnsupportedReference")
        self.assertIn("The section 'result' of reference is currently unsupported", r["error"]["message"])

    def test_a_flow_input_has_no_property_path(self):
        flow = {"inputs": {"q": {"type": "object"}}, "outputs": {},
                "nodes": [py_node("a", "echo.py", {"value": "${inputs.q.k}"})]}
        r = self.run_flow(flow, {"q": {"k": 1}})["result"]
        self.assertEqual(r["error"]["code"], "InputReferenceNotFound")
        self.assertIn("flow input 'q.k'", r["error"]["message"])


if __name__ == "__main__":
    unittest.main()
