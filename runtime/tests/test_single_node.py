from tests.helpers import RuntimeTestCase, py_node, write_files


class SingleNodeTest(RuntimeTestCase):
    """run with `node`: that node alone, inputs by name or by reference, else defaults and the last outputs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        write_files(cls.flow_dir, {
            "fetch.py": """
                from promptflow import tool

                @tool
                def fetch(url: str) -> dict:
                    raise RuntimeError("a single node run of 'summarize' must not run fetch")
                """,
            "summarize.py": """
                from promptflow import tool

                @tool
                def summarize(text: str, words: int, lang: str) -> str:
                    return "%s:%s" % (lang, " ".join(text.split()[:words]))
                """,
        })

    def flow(self):
        return {"inputs": {"url": {"type": "string"}, "words": {"type": "int", "default": 2},
                           "lang": {"type": "string"}},
                "outputs": {"summary": {"reference": "${summarize.output}"}},
                "nodes": [py_node("fetch", "fetch.py", {"url": "${inputs.url}"}),
                          py_node("summarize", "summarize.py", {"text": "${fetch.output.body.text}",
                                                                "words": "${inputs.words}", "lang": "${inputs.lang}"})]}

    def test_inputs_by_reference_by_name_and_from_defaults(self):
        r = self.run_flow(self.flow(), {"fetch.output.body.text": "one two three", "inputs.lang": "en"},
                          node="summarize")["result"]
        self.assertEqual((r["status"], r["outputs"]), ("Completed", {"summarize": "en:one two"}))
        self.assertEqual([n["node"] for n in r["detail"]["node_runs"]], ["summarize"])
        r = self.run_flow(self.flow(), {"text": "a b c", "words": "3", "lang": "fr"}, node="summarize")["result"]
        self.assertEqual(r["outputs"], {"summarize": "fr:a b c"})

    def test_upstream_outputs_of_the_last_run(self):
        r = self.run_flow(self.flow(), {"lang": "de"}, node="summarize",
                          nodeOutputs={"fetch": {"body": {"text": "x y z"}}})["result"]
        self.assertEqual(r["outputs"], {"summarize": "de:x y"})

    def test_missing_input_and_unknown_node(self):
        r = self.run_flow(self.flow(), {"lang": "de"}, node="summarize")["result"]
        self.assertEqual(r["error"]["code"], "InputNotFound")
        self.assertIn("fetch.output.body.text", r["error"]["message"])
        r = self.run_flow(self.flow(), {}, node="nope")["result"]
        self.assertEqual(r["error"]["code"], "NodeNotFound")
