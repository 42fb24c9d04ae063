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
