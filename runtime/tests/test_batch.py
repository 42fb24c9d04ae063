import json
import os
import time

from tests.helpers import RuntimeTestCase, prompt_node, py_node, write_files


class BatchTest(RuntimeTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        write_files(cls.flow_dir, {
            "line.py": """
                import os, time
                from promptflow import tool

                @tool
                def line(x: int, suffix: str = "", wait: float = 0.0) -> dict:
                    if wait:
                        time.sleep(wait)
                    if x == 13:
                        raise ValueError("unlucky")
                    if x == 66:
                        os._exit(9)
                    if x == 77:
                        time.sleep(30)
                    return {"sq": x * x, "s": str(x) + suffix}
                """,
            "agg.py": """
                from promptflow import tool

                @tool
                def agg(values: list, tags: list, label: str) -> dict:
                    return {"values": values, "tags": tags, "label": label}
                """,
        })

    def data(self, name, rows):
        path = os.path.join(self.flow_dir, name)
        with open(path, "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
                if len(rows) < 50:
                    f.write("\n")  # blank lines are skipped
        return name

    def flow(self, aggregation=False):
        f = {"inputs": {"x": {"type": "int"}, "suffix": {"type": "string", "default": "!"},
                        "wait": {"type": "double", "default": 0}},
             "outputs": {"sq": {"reference": "${line.output.sq}"}, "s": {"reference": "${line.output.s}"}},
             "nodes": [py_node("line", "line.py", {"x": "${inputs.x}", "suffix": "${inputs.suffix}",
                                                  "wait": "${inputs.wait}"})]}
        if aggregation:
            f["nodes"].append(py_node("agg", "agg.py", {"values": "${line.output.sq}", "tags": "${inputs.suffix}",
                                                        "label": "all"}, aggregation=True))
        return f

    def batch(self, flow, data, events, **params):
        p = {"runId": "b-%d" % time.monotonic_ns(), "flow": flow, "flowDir": self.flow_dir, "dataPath": data}
        p.update(params)
        return self.rt.call("batch", p, events=events, timeout=120)

    def test_lines_failures_mapping_and_aggregation(self):
        rows = [{"col": i, "tag": "t%d" % i} for i in range(20)]
        rows[5] = {"col": "not-a-number"}
        data = self.data("d1.jsonl", rows)
        events = []
        resp = self.batch(self.flow(aggregation=True), data, events, workers=4,
                          columnMapping={"x": "${data.col}", "suffix": "${data.tag}"})
        r = resp["result"]
        lines = sorted((e for e in events if e["event"] == "lineEnd"), key=lambda e: e["index"])
        self.assertEqual([e["index"] for e in lines], list(range(20)))
        self.assertEqual((r["status"], r["total"], r["failed"], r["completed"]), ("Completed", 20, 2, 18))
        self.assertEqual(r["summary"], "2 out of 20 runs failed")
        self.assertEqual(lines[3]["output"], {"sq": 9, "s": "3t3"})
        self.assertEqual(lines[3]["status"], "Completed")
        self.assertEqual(lines[5]["error"]["code"], "InputTypeError")
        self.assertIn("in line 5 of input data", lines[5]["error"]["message"])
        self.assertEqual(lines[13]["error"]["code"], "ToolExecutionError")
        self.assertEqual(lines[13]["error"]["message"], "Execution failure in 'line': (ValueError) unlucky")
        ok = [i for i in range(20) if i not in (5, 13)]
        self.assertEqual(r["aggregation"]["status"], "Completed")
        self.assertEqual(r["aggregation"]["outputs"]["agg"],
                         {"values": [i * i for i in ok], "tags": ["t%d" % i for i in ok], "label": "all"})
        agg_events = [e for e in events if e.get("node") == "agg"]
        self.assertEqual([e["event"] for e in agg_events], ["nodeStart", "nodeEnd"])

    def test_inputs_by_name_and_literal_mapping(self):
        data = self.data("d2.jsonl", [{"x": 2}, {"x": 3, "suffix": "?"}])
        events = []
        r = self.batch(self.flow(), data, events, workers=2)["result"]
        outs = {e["index"]: e["output"] for e in events if e["event"] == "lineEnd"}
        self.assertEqual(outs, {0: {"sq": 4, "s": "2!"}, 1: {"sq": 9, "s": "3?"}})
        self.assertEqual(r["summary"], "All 2 runs completed")
        events = []
        self.batch(self.flow(), data, events, workers=2, columnMapping={"x": "${data.x}", "suffix": "-lit"})
        outs = {e["index"]: e["output"]["s"] for e in events if e["event"] == "lineEnd"}
        self.assertEqual(outs, {0: "2-lit", 1: "3-lit"})

    def test_crashing_and_hanging_lines_fail_alone(self):
        data = self.data("d3.jsonl", [{"x": 1}, {"x": 66}, {"x": 2}, {"x": 77}, {"x": 3}, {"x": 4}])
        events = []
        r = self.batch(self.flow(), data, events, workers=2, lineTimeoutSeconds=1)["result"]
        lines = {e["index"]: e for e in events if e["event"] == "lineEnd"}
        self.assertEqual(sorted(lines), list(range(6)))
        self.assertEqual(lines[1]["error"]["code"], "RuntimeCrashed")
        self.assertIn("exit code 9", lines[1]["error"]["message"])
        self.assertEqual(lines[3]["error"]["code"], "LineExecutionTimeoutError")
        self.assertEqual([lines[i]["output"]["sq"] for i in (0, 2, 4, 5)], [1, 4, 9, 16])
        self.assertEqual((r["total"], r["failed"]), (6, 2))

    def test_missing_data_file(self):
        r = self.batch(self.flow(), "nope.jsonl", [])["result"]
        self.assertEqual((r["status"], r["error"]["code"]), ("Failed", "DataFileNotFound"))

    def test_workers_run_lines_at_the_same_time(self):
        # a rendezvous, not a stopwatch: each line waits until every line of the batch has started, which only
        # 8 workers running side by side can satisfy; one worker would leave each line waiting for the others
        meeting = os.path.join(self.flow_dir, "meeting")
        os.makedirs(meeting, exist_ok=True)
        write_files(self.flow_dir, {"meet.py": """
            import os, time
            from promptflow import tool

            @tool
            def meet(x: int, folder: str, count: int) -> int:
                open(os.path.join(folder, str(x)), "w").close()
                deadline = time.monotonic() + 60
                while len(os.listdir(folder)) < count:
                    if time.monotonic() > deadline:
                        raise TimeoutError("only %d of %d lines ran at once" % (len(os.listdir(folder)), count))
                    time.sleep(0.005)
                return x
            """})
        flow = {"inputs": {"x": {"type": "int"}}, "outputs": {"x": {"reference": "${meet.output}"}},
                "nodes": [py_node("meet", "meet.py", {"x": "${inputs.x}", "folder": meeting, "count": 8})]}
        data = self.data("d4.jsonl", [{"x": i} for i in range(8)])
        events = []
        r = self.batch(flow, data, events, workers=8)["result"]
        errors = [e.get("error") for e in events if e["event"] == "lineEnd" and e.get("status") != "Completed"]
        self.assertEqual((r["total"], r["failed"]), (8, 0), errors)
        self.assertEqual(sorted(os.listdir(meeting)), sorted(str(i) for i in range(8)))

    def test_ten_thousand_lines_with_bounded_memory(self):
        data = self.data("d5.jsonl", [{"x": i % 10, "suffix": "y" * 200} for i in range(10000)])
        count = [0]

        class Counter(list):
            def append(self, e):
                if e.get("event") == "lineEnd":
                    count[0] += 1

        r = self.batch(self.flow(), data, Counter(), workers=8)["result"]
        self.assertEqual((r["total"], r["failed"], count[0]), (10000, 0, 10000))
        with open("/proc/%d/status" % self.rt.proc.pid) as f:
            hwm_kb = int([ln for ln in f if ln.startswith("VmHWM")][0].split()[1])
        self.assertLess(hwm_kb, 150 * 1024)

    def test_workers_start_as_lines_need_them_up_to_sixteen_by_default(self):
        write_files(self.flow_dir, {"pid.py": """
            import os, time
            from promptflow import tool

            @tool
            def pid(x: int) -> int:
                time.sleep(0.05)  # lines overlap, so a free worker is not simply reused
                return os.getpid()
            """})
        flow = {"inputs": {"x": {"type": "int"}}, "outputs": {"pid": {"reference": "${pid.output}"}},
                "nodes": [py_node("pid", "pid.py", {"x": "${inputs.x}"})]}
        for rows, most in ((3, 3), (40, 16)):
            events = []
            r = self.batch(flow, self.data("pids-%d.jsonl" % rows, [{"x": i} for i in range(rows)]), events)["result"]
            self.assertEqual((r["total"], r["failed"]), (rows, 0))
            pids = {e["output"]["pid"] for e in events if e["event"] == "lineEnd"}
            self.assertLessEqual(len(pids), most, "no more workers than lines, and the default caps them")
            if rows == 40:
                self.assertGreater(len(pids), 4, "an I/O-bound batch gets more than the old default of 4 workers")

    def test_lines_end_gathered_in_few_messages_each_line_once(self):
        data = self.data("d6.jsonl", [{"x": i} for i in range(3000)])
        req = self.rt.send("batch", {"runId": "gathered", "flow": self.flow(), "flowDir": self.flow_dir,
                                     "dataPath": data, "workers": 4})
        messages, indexes = 0, []
        while True:
            msg = self.rt.read(60)
            if msg.get("id") == req:
                break
            if msg.get("event") == "lineEnds":
                self.assertEqual(msg["runId"], "gathered")
                messages += 1
                indexes += [line["index"] for line in msg["lines"]]
        self.assertEqual(msg["result"]["total"], 3000)
        self.assertEqual(sorted(indexes), list(range(3000)), "every line once")
        self.assertLess(messages, 3000 // 10, "lines travel gathered, not one message each")

    def test_a_worker_keeps_module_state_between_its_lines_as_prompt_flow_line_processes_do(self):
        write_files(self.flow_dir, {"count.py": """
            import os
            from promptflow import tool

            calls = []

            @tool
            def count(x: int) -> dict:
                calls.append(x)
                return {"pid": os.getpid(), "seen": len(calls)}
            """})
        flow = {"inputs": {"x": {"type": "int"}}, "outputs": {"o": {"reference": "${count.output}"}},
                "nodes": [py_node("count", "count.py", {"x": "${inputs.x}"})]}
        events = []
        r = self.batch(flow, self.data("count.jsonl", [{"x": i} for i in range(5)]), events, workers=1)["result"]
        self.assertEqual((r["total"], r["failed"]), (5, 0))
        outs = sorted((e["index"], e["output"]["o"]) for e in events if e["event"] == "lineEnd")
        self.assertEqual(len({o["pid"] for _i, o in outs}), 1, "one worker ran them all")
        self.assertEqual([o["seen"] for _i, o in outs], [1, 2, 3, 4, 5])
        # a new batch starts from the flow's code again, not from the last batch's workers
        events = []
        self.batch(flow, self.data("count1.jsonl", [{"x": 9}]), events, workers=1)
        self.assertEqual([e["output"]["o"]["seen"] for e in events if e["event"] == "lineEnd"], [1])

    def test_a_crash_among_many_fast_lines_fails_that_line_only(self):
        rows = [{"x": i % 10 if i != 150 else 66} for i in range(400)]
        events = []
        r = self.batch(self.flow(), self.data("d7.jsonl", rows), events, workers=3)["result"]
        lines = {e["index"]: e for e in events if e["event"] == "lineEnd"}
        self.assertEqual(sorted(lines), list(range(400)))
        self.assertEqual([i for i, e in lines.items() if e["status"] == "Failed"], [150])
        self.assertEqual(lines[150]["error"]["code"], "RuntimeCrashed")
        self.assertEqual((r["total"], r["failed"]), (400, 1))

    def test_cancel_ends_the_batch_and_its_workers(self):
        write_files(self.flow_dir, {"slow.py": """
            import os, time
            from promptflow import tool

            @tool
            def slow(x: int) -> int:
                time.sleep(0.2)
                return os.getpid()
            """})
        flow = {"inputs": {"x": {"type": "int"}}, "outputs": {"pid": {"reference": "${slow.output}"}},
                "nodes": [py_node("slow", "slow.py", {"x": "${inputs.x}"})]}
        data = self.data("slow.jsonl", [{"x": i} for i in range(100)])
        req = self.rt.send("batch", {"runId": "to-cancel-batch", "flow": flow, "flowDir": self.flow_dir,
                                     "dataPath": data, "workers": 3})
        pids = set()
        while not pids:
            msg = self.rt.read(30)
            for line in msg.get("lines") or []:
                pids.add(line["output"]["pid"])
        cancel = self.rt.send("cancel", {"runId": "to-cancel-batch"})
        got = {}
        while len(got) < 2:
            msg = self.rt.read(30)
            if "id" in msg:
                got[msg["id"]] = msg
        self.assertEqual(got[cancel]["result"], {"cancelled": True})
        self.assertEqual(got[req]["error"]["code"], "Cancelled")
        deadline = time.monotonic() + 10
        while any(_running(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse([p for p in pids if _running(p)], "the workers are gone")

    def test_prompts_compiled_before_the_workers_start_and_a_broken_one_fails_its_lines(self):
        write_files(self.flow_dir, {"good.jinja2": "Hello {{name}}!", "bad.jinja2": "Hello {{name"})
        for template, ok in (("good.jinja2", True), ("bad.jinja2", False)):
            flow = {"inputs": {"name": {"type": "string"}}, "outputs": {"text": {"reference": "${greet.output}"}},
                    "nodes": [prompt_node("greet", template, {"name": "${inputs.name}"})]}
            events = []
            r = self.batch(flow, self.data("names.jsonl", [{"name": "n%d" % i} for i in range(6)]), events,
                           workers=3)["result"]
            lines = sorted((e for e in events if e["event"] == "lineEnd"), key=lambda e: e["index"])
            self.assertEqual(r["total"], 6)
            if ok:
                self.assertEqual([e["output"]["text"] for e in lines], ["Hello n%d!" % i for i in range(6)])
            else:
                self.assertEqual(r["failed"], 6)
                self.assertTrue(all("Failed to render jinja template" in e["error"]["message"] for e in lines), lines)


def _running(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            return "zombie" not in f.read()
    except OSError:
        return False
