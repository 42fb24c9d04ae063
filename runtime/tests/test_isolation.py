import os
import signal
import time

from tests.helpers import RuntimeTestCase, py_node


def one_node_flow(path, inputs=None):
    return {"inputs": {}, "outputs": {"o": {"reference": "${n.output}"}}, "nodes": [py_node("n", path, inputs)]}


class IsolationTest(RuntimeTestCase):
    def assertStillServing(self):
        self.assertEqual(self.rt.call("ping")["result"], {"pong": True})

    def test_os_exit_in_tool_is_a_crash_of_the_child_only(self):
        self.files({"crash.py": """
            import os
            from promptflow import tool

            @tool
            def crash() -> int:
                os._exit(3)
            """})
        resp = self.run_flow(one_node_flow("crash.py"))
        self.assertEqual(resp["error"]["code"], "RuntimeCrashed")
        self.assertIn("exit code 3", resp["error"]["message"])
        self.assertStillServing()

    def test_sys_exit_in_tool(self):
        self.files({"exit.py": """
            import sys
            from promptflow import tool

            @tool
            def leave() -> int:
                sys.exit(4)
            """})
        events = []
        resp = self.run_flow(one_node_flow("exit.py"), events=events)
        self.assertEqual(resp["error"]["code"], "RuntimeCrashed")
        self.assertIn("exit code 4", resp["error"]["message"])
        ends = [e for e in events if e["event"] == "nodeEnd"]
        self.assertEqual([(e["node"], e["status"]) for e in ends], [("n", "Failed")])
        self.assertStillServing()

    def test_segfault(self):
        self.files({"segv.py": """
            import os, signal
            from promptflow import tool

            @tool
            def boom() -> int:
                os.kill(os.getpid(), signal.SIGSEGV)
            """})
        resp = self.run_flow(one_node_flow("segv.py"))
        self.assertEqual(resp["error"]["code"], "RuntimeCrashed")
        self.assertIn("SIGSEGV", resp["error"]["message"])
        self.assertStillServing()

    def test_hang_times_out(self):
        self.files({"hang.py": """
            import time
            from promptflow import tool

            @tool
            def hang() -> int:
                while True:
                    time.sleep(1)
            """})
        events = []
        t0 = time.monotonic()
        resp = self.run_flow(one_node_flow("hang.py"), events=events, timeoutSeconds=1)
        elapsed = time.monotonic() - t0
        self.assertEqual(resp["error"]["code"], "RunTimeout")
        self.assertLess(elapsed, 3.0)
        self.assertGreaterEqual(elapsed, 0.9)
        self.assertEqual([e["status"] for e in events if e["event"] == "nodeEnd"], ["Canceled"])
        self.assertStillServing()

    def test_cancel(self):
        self.files({"hang2.py": """
            import time
            from promptflow import tool

            @tool
            def hang() -> int:
                time.sleep(60)
            """})
        req = self.rt.send("run", {"runId": "to-cancel", "flow": one_node_flow("hang2.py"), "flowDir": self.flow_dir})
        events = []
        while not any(e.get("event") == "nodeStart" for e in events):
            events.append(self.rt.read())
        t0 = time.monotonic()
        cancel = self.rt.send("cancel", {"runId": "to-cancel"})
        got = {}
        while len(got) < 2:
            msg = self.rt.read()
            if "id" in msg:
                got[msg["id"]] = msg
            else:
                events.append(msg)
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertEqual(got[cancel]["result"], {"cancelled": True})
        self.assertEqual(got[req]["error"]["code"], "Cancelled")
        self.assertEqual([(e["node"], e["status"]) for e in events if e["event"] == "nodeEnd"], [("n", "Canceled")])
        self.assertEqual(self.rt.call("cancel", {"runId": "to-cancel"})["result"], {"cancelled": False})
        self.assertStillServing()

    def test_user_modules_are_imported_fresh_for_each_request(self):
        self.files({"counter.py": """
            from promptflow import tool
            COUNT = []

            @tool
            def count() -> int:
                COUNT.append(1)
                return len(COUNT)
            """})
        for _ in range(3):
            self.assertEqual(self.run_flow(one_node_flow("counter.py"))["result"]["outputs"], {"o": 1})

    def test_validate_survives_exit_at_import(self):
        self.files({"exits_at_import.py": """
            import sys
            sys.exit(2)
            """})
        res = self.validate(one_node_flow("exits_at_import.py"))
        self.assertEqual([e["code"] for e in res["errors"]], ["PythonLoadError"])
        self.assertEqual(res["errors"][0]["line"], 2)
        self.assertStillServing()

    def _children(self):
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[1]) == self.rt.proc.pid and fields[0] != "Z":
                pids.append(int(entry))
        return pids

    def test_a_child_forked_ahead_sees_the_files_as_they_are_when_the_request_comes(self):
        self.files({"changing.py": """
            from promptflow import tool

            @tool
            def first(a: int) -> int:
                return a
            """})
        flow = one_node_flow("changing.py", {"a": 1})
        self.assertEqual(self.validate(flow)["tools"]["code"]["changing.py"]["function"], "first")
        self.files({"changing.py": """
            from promptflow import tool

            @tool
            def second(b: str) -> str:
                return b
            """})
        tool = self.validate(flow)["tools"]["code"]["changing.py"]
        self.assertEqual((tool["function"], list(tool["inputs"])), ("second", ["b"]))

    def test_a_child_forked_ahead_that_died_is_replaced(self):
        self.files({"plain.py": """
            from promptflow import tool

            @tool
            def plain(a: int) -> int:
                return a
            """})
        flow = one_node_flow("plain.py", {"a": 1})
        self.assertEqual(self.run_flow(flow)["result"]["outputs"], {"o": 1})
        deadline = time.monotonic() + 10
        while not self._children() and time.monotonic() < deadline:
            time.sleep(0.01)
        spares = self._children()
        self.assertTrue(spares, "a child waits for the next request")
        for pid in spares:
            os.kill(pid, signal.SIGKILL)
        while any(os.path.exists("/proc/%d" % p) and p in self._children() for p in spares):
            self.assertLess(time.monotonic(), deadline, "the killed spare is gone")
            time.sleep(0.01)
        self.assertEqual(self.run_flow(flow, {"a": 2})["result"]["outputs"], {"o": 1})
        self.assertStillServing()

    def test_a_template_check_runs_no_user_code_and_so_needs_no_child(self):
        from flowsession_runtime import validate
        self.files({"t.jinja2": "{{ x }}", "tool.py": "x = 1\n"})
        template = {"name": "t", "type": "prompt", "source": {"type": "code", "path": "t.jinja2"}, "inputs": {}}
        flow = {"nodes": [template, py_node("p", "tool.py")]}
        self.assertTrue(validate.runs_no_user_code({"flow": flow, "sources": ["t.jinja2"]}, self.flow_dir))
        self.assertFalse(validate.runs_no_user_code({"flow": flow, "sources": ["tool.py"]}, self.flow_dir))
        self.assertFalse(validate.runs_no_user_code({"flow": flow}, self.flow_dir), "a full check imports the tools")
        python_on_template = {"nodes": [py_node("p", "t.jinja2")]}
        self.assertFalse(validate.runs_no_user_code({"flow": python_on_template, "sources": ["t.jinja2"]},
                                                    self.flow_dir))
        package = {"nodes": [template, {"name": "k", "type": "python", "source": {"type": "package", "tool": "a.b"}}]}
        self.assertFalse(validate.runs_no_user_code({"flow": package, "sources": ["t.jinja2"]}, self.flow_dir))
        res = self.validate(flow, sources=["t.jinja2"])
        self.assertEqual(res["tools"]["code"]["t.jinja2"]["inputs"], {"x": {"type": ["string"]}})
        self.files({"broken.jinja2": "{% if %}"})
        res = self.validate({"nodes": [dict(template, source={"type": "code", "path": "broken.jinja2"})]},
                            sources=["broken.jinja2"])
        self.assertEqual([e["code"] for e in res["errors"]], ["JinjaParsingError"])
        self.assertStillServing()

    def test_usable_cpus_is_capped_by_the_affinity(self):
        from flowsession_runtime import forking
        cpus = forking.usable_cpus()
        self.assertGreater(cpus, 0)
        self.assertLessEqual(cpus, len(os.sched_getaffinity(0)))
