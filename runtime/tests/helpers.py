"""Spawns the runtime as the TS side does and speaks its protocol; builds small temp flows."""
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest

RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Runtime:
    def __init__(self, flow_dir, env=None):
        self.flow_dir = flow_dir
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": RUNTIME_DIR,
                    "FLOWSESSION_ACTIVITY_FILE": os.path.join(tempfile.gettempdir(), "fs-activity-%d" % os.getpid())}
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "flowsession_runtime", "--flow-dir", flow_dir], cwd=flow_dir,
            env=full_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines = queue.Queue()
        self.stderr = []
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            self.lines.put(raw)
        self.lines.put(None)

    def _read_err(self):
        for raw in self.proc.stderr:
            self.stderr.append(raw.decode("utf-8", "replace"))

    def send(self, method, params=None, req_id=None):
        if req_id is None:
            self.next_id += 1
            req_id = self.next_id
        msg = {"id": req_id, "method": method, "params": params or {}}
        self.proc.stdin.write((json.dumps(msg) + "\n").encode())
        self.proc.stdin.flush()
        return req_id

    def read(self, timeout=30):
        raw = self.lines.get(timeout=timeout)
        if raw is None:
            raise EOFError("runtime stdout closed")
        return json.loads(raw)  # every stdout line must be protocol JSON

    def wait_response(self, req_id, timeout=60, events=None):
        end = time.monotonic() + timeout
        while True:
            msg = self.read(max(0.01, end - time.monotonic()))
            if "event" in msg:
                if events is not None:
                    if msg["event"] == "lineEnds":
                        # as the host's client does: each line as a lineEnd event
                        for line in msg["lines"]:
                            events.append(dict(line, event="lineEnd", runId=msg["runId"]))
                    else:
                        events.append(msg)
                continue
            if msg.get("id") == req_id:
                return msg
            if events is not None:
                events.append(msg)

    def call(self, method, params=None, timeout=60, events=None):
        return self.wait_response(self.send(method, params), timeout, events)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.send("shutdown")
                self.proc.wait(5)
            except Exception:
                self.proc.kill()
                self.proc.wait(5)
        for s in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                s.close()
            except Exception:
                pass


def write_files(root, files):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if isinstance(text, bytes):
            with open(path, "wb") as f:
                f.write(text)
            continue
        with open(path, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(text).lstrip("\n") if isinstance(text, str) else text)


def py_node(name, path, inputs=None, **extra):
    node = {"name": name, "type": "python", "source": {"type": "code", "path": path}, "inputs": inputs or {}}
    node.update(extra)
    return node


def prompt_node(name, path, inputs=None, node_type="prompt", **extra):
    node = {"name": name, "type": node_type, "source": {"type": "code", "path": path}, "inputs": inputs or {}}
    node.update(extra)
    return node


class RuntimeTestCase(unittest.TestCase):
    """One runtime per test class over a temp flow folder; tests add the files they need."""

    runtime_env = None  # extra environment of the runtime process (e.g. PYTHONPATH)

    @classmethod
    def setUpClass(cls):
        cls.flow_dir = os.path.realpath(tempfile.mkdtemp(prefix="fs-flow-"))
        cls.rt = Runtime(cls.flow_dir, cls.runtime_env)

    @classmethod
    def tearDownClass(cls):
        cls.rt.close()
        shutil.rmtree(cls.flow_dir, ignore_errors=True)

    def files(self, files):
        write_files(self.flow_dir, files)

    def run_flow(self, flow, inputs=None, run_id=None, events=None, **params):
        run_id = run_id or "run-%s-%d" % (self.id().rsplit(".", 1)[-1], time.monotonic_ns())
        p = {"runId": run_id, "flow": flow, "flowDir": self.flow_dir, "inputs": inputs or {}}
        p.update(params)
        return self.rt.call("run", p, events=events, timeout=params.get("timeoutSeconds", 60) + 30)

    def validate(self, flow, **params):
        p = {"flow": flow, "flowDir": self.flow_dir}
        p.update(params)
        resp = self.rt.call("validate", p)
        self.assertIn("result", resp, resp)
        return resp["result"]
