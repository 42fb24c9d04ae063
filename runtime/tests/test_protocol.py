import unittest
import os
import tempfile
import time

from tests.helpers import RuntimeTestCase, py_node


class ProtocolTest(RuntimeTestCase):
    def test_ping_and_version(self):
        resp = self.rt.call("ping")
        self.assertEqual(resp, {"id": self.rt.next_id, "result": {"pong": True}})
        v = self.rt.call("version")["result"]
        self.assertEqual(v["protocol"], 1)
        self.assertEqual(v["runtime"], "dev")
        self.assertRegex(v["python"], r"^3\.\d+")
        self.assertIsNotNone(v["jinja2"])
        self.assertIsNone(v["promptflow"])  # the shim is not reported as promptflow

    def test_unknown_method_and_bad_json(self):
        resp = self.rt.call("nope")
        self.assertEqual(resp["error"]["code"], "MethodNotFound")
        self.rt.proc.stdin.write(b"this is not json\n")
        self.rt.proc.stdin.flush()
        msg = self.rt.read()
        self.assertEqual(msg["error"]["code"], "InvalidRequest")
        self.assertIsNone(msg["id"])

    def test_run_needs_run_id(self):
        resp = self.rt.call("run", {"flow": {"nodes": []}})
        self.assertEqual(resp["error"]["code"], "InvalidParams")

    def test_stdout_carries_only_protocol_and_no_bytecode_is_written(self):
        self.files({"noisy.py": """
            import os, sys
            print("import-time print")
            os.write(1, b"raw fd 1 write\\n")
            from promptflow import tool
            import helper_mod

            @tool
            def noisy(x: str) -> str:
                print("tool print")
                os.system("echo from a subprocess")
                return helper_mod.twice(x)
            """, "helper_mod.py": """
            def twice(x):
                return x * 2
            """})
        flow = {"inputs": {"x": {"type": "string"}}, "outputs": {"y": {"reference": "${noisy.output}"}},
                "nodes": [py_node("noisy", "noisy.py", {"x": "${inputs.x}"})]}
        resp = self.run_flow(flow, {"x": "ab"})  # read() json-decodes every line, so junk would raise
        self.assertEqual(resp["result"]["outputs"], {"y": "abab"})
        self.assertEqual(self.validate(flow)["result"], "Succeeded")
        self.assertFalse(os.path.exists(os.path.join(self.flow_dir, "__pycache__")))
        self.assertFalse(os.path.exists(os.path.join(self.flow_dir, ".promptflow")))

    def test_ping_is_answered_while_a_run_is_going(self):
        self.files({"slow.py": """
            import time
            from promptflow import tool

            @tool
            def slow() -> int:
                time.sleep(1.0)
                return 1
            """})
        flow = {"inputs": {}, "outputs": {"o": {"reference": "${slow.output}"}}, "nodes": [py_node("slow", "slow.py")]}
        run_req = self.rt.send("run", {"runId": "overlap", "flow": flow, "flowDir": self.flow_dir})
        time.sleep(0.2)
        t0 = time.monotonic()
        ping_req = self.rt.send("ping")
        seen = []
        msg = self.rt.wait_response(ping_req, events=seen)
        self.assertEqual(msg["result"], {"pong": True})
        self.assertLess(time.monotonic() - t0, 0.5)
        done = self.rt.wait_response(run_req)
        self.assertEqual(done["result"]["status"], "Completed")

    def test_activity_file_is_touched_on_requests(self):
        f = os.path.join(tempfile.gettempdir(), "fs-activity-%d" % os.getpid())
        self.rt.call("ping")  # the runtime creates the file when it starts
        os.utime(f, (1000, 1000))
        self.rt.call("ping")
        self.assertGreater(os.stat(f).st_mtime, time.time() - 60)


class WriteFilesTest(unittest.TestCase):
    """writeFiles puts saved files into the session's flow folder, and nowhere else."""

    def test_writes_confined_files(self):
        import base64
        import tempfile
        from flowsession_runtime.filesync import SyncError, write_files

        with tempfile.TemporaryDirectory() as root:
            flow = os.path.join(root, "flow")
            os.mkdir(flow)
            os.symlink(root, os.path.join(flow, "escape"))
            enc = lambda b: base64.b64encode(b).decode()
            self.assertEqual(write_files(flow, [{"path": "sub/a.py", "content": enc(b"x = 1\n")}]), {"written": ["sub/a.py"]})
            with open(os.path.join(flow, "sub", "a.py")) as f:
                self.assertEqual(f.read(), "x = 1\n")
            for bad in ["../x.py", "/etc/passwd", "escape/x.py", "a/../../x", "", "a\\b"]:
                with self.assertRaises(SyncError, msg=bad):
                    write_files(flow, [{"path": bad, "content": enc(b"no")}])
            self.assertFalse(os.path.exists(os.path.join(root, "x.py")))

    def test_clear_replaces_the_folder(self):
        import base64
        import tempfile
        from flowsession_runtime.filesync import write_files

        with tempfile.TemporaryDirectory() as flow:
            os.makedirs(os.path.join(flow, "old", "deep"))
            open(os.path.join(flow, "gone.py"), "w").close()
            write_files(flow, [{"path": "new.py", "content": base64.b64encode(b"n").decode()}], clear=True)
            self.assertEqual(sorted(os.listdir(flow)), ["new.py"])


class SyncFilesTest(unittest.TestCase):
    """syncFiles brings the flow folder to the host's listing and keeps the manifest of what it holds."""

    def setUp(self):
        import tempfile
        self.tmp = tempfile.TemporaryDirectory()
        self.flow = os.path.join(self.tmp.name, "flow")
        os.mkdir(self.flow)
        self.manifest = os.path.join(self.tmp.name, "state", "manifest.json")

    def tearDown(self):
        self.tmp.cleanup()

    def sync(self, **params):
        from flowsession_runtime.filesync import sync_files
        return sync_files(self.flow, dict({"container": "c1"}, **params), self.manifest)

    def test_removes_writes_and_records(self):
        import base64
        from flowsession_runtime.filesync import read_manifest
        entry = {"size": 1, "mtimeMs": 1, "hash": "h"}
        r = self.sync(base=None, dirs=["sub"], files=[{"path": "sub/a.py", "content": base64.b64encode(b"a").decode()}],
                      record={"sub": {"dir": True}, "sub/a.py": entry})
        self.assertEqual(r, {"generation": 1})
        self.assertEqual(read_manifest(self.manifest)["entries"], {"sub": {"dir": True}, "sub/a.py": entry})
        r = self.sync(base=1, remove=["sub"], record={"b.py": entry})
        self.assertEqual(r, {"generation": 2})
        self.assertEqual(os.listdir(self.flow), [])
        self.assertEqual(read_manifest(self.manifest)["entries"], {"b.py": entry})

    def test_another_generation_or_container_is_a_conflict(self):
        self.sync(base=None)
        r = self.sync(base=7)
        self.assertTrue(r["conflict"])
        self.assertEqual(r["manifest"]["generation"], 1)
        from flowsession_runtime.filesync import sync_files
        self.assertEqual(sync_files(self.flow, {"container": "other", "base": 1}, self.manifest), {"conflict": True, "manifest": None})

    def test_base_none_empties_the_folder(self):
        os.makedirs(os.path.join(self.flow, "old"))
        open(os.path.join(self.flow, "gone.py"), "w").close()
        self.sync(base=None)
        self.assertEqual(os.listdir(self.flow), [])

    def test_paths_stay_inside(self):
        from flowsession_runtime.filesync import SyncError
        os.symlink(self.tmp.name, os.path.join(self.flow, "escape"))
        for bad in ["../x", "/etc", "escape/state", "a/../../x"]:
            with self.assertRaises(SyncError, msg=bad):
                self.sync(base=None, remove=[bad])
        self.assertTrue(os.path.islink(os.path.join(self.flow, "escape")))


class FlowTidyTest(unittest.TestCase):
    """What the flow's code writes into the session's flow folder is gone once no job runs."""

    def setUp(self):
        import tempfile
        from tests.helpers import Runtime
        self.tmp = tempfile.TemporaryDirectory()
        self.flow = os.path.realpath(os.path.join(self.tmp.name, "flow"))
        os.mkdir(self.flow)
        self.manifest = os.path.join(self.tmp.name, "state", "manifest.json")
        self.rt = Runtime(self.flow, env={"FLOWSESSION_SYNC_MANIFEST": self.manifest})

    def tearDown(self):
        self.rt.close()
        self.tmp.cleanup()

    def sync(self, files):
        import base64
        entry = {"size": 1, "mtimeMs": 1, "hash": "h"}
        record = {"sub": {"dir": True}}
        record.update({p: entry for p in files})
        payload = [{"path": p, "content": base64.b64encode(t.encode()).decode()} for p, t in files.items()]
        r = self.rt.call("syncFiles", {"container": "c1", "base": None, "dirs": ["sub"], "files": payload,
                                       "record": record})
        self.assertEqual(r["result"], {"generation": 1})

    def wait_for(self, what, check, timeout=20):
        end = time.monotonic() + timeout
        while not check():
            self.assertLess(time.monotonic(), end, what)
            time.sleep(0.01)

    def test_files_written_by_a_run_leave_the_folder_after_it_and_a_run_sees_its_own_files(self):
        self.sync({"writer.py": """from promptflow import tool
import os


@tool
def write(n: int) -> str:
    with open("made.txt", "w") as f:
        f.write("x")
    os.makedirs("cache/deep", exist_ok=True)
    open("cache/deep/c.bin", "w").close()
    open("sub/inner.txt", "w").close()
    os.makedirs(".flowsession-batch", exist_ok=True)
    return open("made.txt").read()
"""})
        flow = {"inputs": {}, "outputs": {"o": {"reference": "${w.output}"}},
                "nodes": [py_node("w", "writer.py", {"n": 1})]}
        resp = self.rt.call("run", {"runId": "tidy-1", "flow": flow, "flowDir": self.flow, "inputs": {}})
        self.assertEqual(resp["result"]["outputs"], {"o": "x"}, resp)
        self.wait_for("the run's files leave the flow folder",
                      lambda: sorted(os.listdir(self.flow)) == [".flowsession-batch", "sub", "writer.py"])
        self.assertEqual(os.listdir(os.path.join(self.flow, "sub")), [])
        self.assertEqual(self.rt.call("ping")["result"], {"pong": True})

    def test_without_a_manifest_nothing_is_removed(self):
        from flowsession_runtime.filesync import remove_strays
        open(os.path.join(self.flow, "kept.txt"), "w").close()
        self.assertEqual(remove_strays(self.flow, self.manifest), [])
        self.assertEqual(os.listdir(self.flow), ["kept.txt"])
