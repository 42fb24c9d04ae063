import json
import os
import time

from tests.helpers import RuntimeTestCase, py_node, write_files


class EvaluationTest(RuntimeTestCase):
    """An evaluation batch: base run lines by line number, and log_metric from aggregation nodes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        write_files(cls.flow_dir, {
            "grade.py": """
                from promptflow import tool

                @tool
                def grade(answer: str, prediction: str, question: str = "") -> str:
                    return ("Correct" if answer == prediction else "Incorrect") + (":" + question if question else "")
                """,
            "score.py": """
                from promptflow import tool, log_metric
                from promptflow.core import log_metric as core_log_metric

                @tool
                def score(grades: list) -> dict:
                    right = sum(1 for g in grades if g.startswith("Correct"))
                    log_metric("accuracy", round(right / len(grades), 2))
                    core_log_metric("count", len(grades), variant_id="variant_0")
                    log_metric("note", "not a number")
                    return {"right": right}
                """,
        })

    def flow(self):
        return {"inputs": {"answer": {"type": "string"}, "prediction": {"type": "string"},
                           "question": {"type": "string", "default": ""}},
                "outputs": {"grade": {"reference": "${grade.output}"}},
                "nodes": [py_node("grade", "grade.py", {"answer": "${inputs.answer}",
                                                        "prediction": "${inputs.prediction}",
                                                        "question": "${inputs.question}"}),
                          py_node("score", "score.py", {"grades": "${grade.output}"}, aggregation=True)]}

    def write(self, name, rows):
        with open(os.path.join(self.flow_dir, name), "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
        return name

    def batch(self, events, **params):
        p = {"runId": "e-%d" % time.monotonic_ns(), "flow": self.flow(), "flowDir": self.flow_dir}
        p.update(params)
        return self.rt.call("batch", p, events=events, timeout=120)

    def test_run_outputs_and_inputs_by_line_number_and_metrics(self):
        data = self.write("data.jsonl", [{"answer": a} for a in ["cat", "dog", "eel", "fox"]])
        # line 2 of the base run failed: it has no outputs, so the evaluation skips it
        base = self.write("base.jsonl", [
            {"line_number": 3, "inputs": {"q": "q3"}, "outputs": {"category": "fox"}},
            {"line_number": 0, "inputs": {"q": "q0"}, "outputs": {"category": "cat"}},
            {"line_number": 1, "inputs": {"q": "q1"}, "outputs": {"category": "cow"}},
            {"line_number": 2, "inputs": {"q": "q2"}},
        ])
        events = []
        r = self.batch(events, dataPath=data, baseRunPath=base, columnMapping={
            "answer": "${data.answer}", "prediction": "${run.outputs.category}", "question": "${run.inputs.q}"})["result"]
        lines = {e["index"]: e for e in events if e.get("event") == "lineEnd"}
        self.assertEqual(sorted(lines), [0, 1, 3])
        self.assertEqual(lines[0]["output"], {"grade": "Correct:q0"})
        self.assertEqual(lines[1]["output"], {"grade": "Incorrect:q1"})
        self.assertEqual(lines[3]["output"], {"grade": "Correct:q3"})
        self.assertEqual((r["status"], r["total"]), ("Completed", 3))
        self.assertEqual(r["aggregation"]["outputs"], {"score": {"right": 2}})
        self.assertEqual(r["metrics"], {"accuracy": 0.67, "count.variant_0": 3})

    def test_run_mapping_without_base_run_is_refused(self):
        data = self.write("data2.jsonl", [{"answer": "x"}])
        r = self.batch([], dataPath=data, columnMapping={"answer": "${data.answer}",
                                                         "prediction": "${run.outputs.category}"})["result"]
        self.assertEqual(r["status"], "Failed")
        self.assertEqual(r["error"]["code"], "UnsupportedColumnMapping")
        self.assertIn("--run", r["error"]["message"])

    def test_metrics_of_a_single_run(self):
        r = self.run_flow(self.flow(), {"answer": "a", "prediction": "a"})["result"]
        self.assertEqual(r["status"], "Completed")
        self.assertEqual(r["metrics"], {"accuracy": 1.0, "count.variant_0": 1})
