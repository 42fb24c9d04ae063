import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

from tests.helpers import RUNTIME_DIR, Runtime, py_node, write_files


class DebugRunWithoutDebugpyTest(unittest.TestCase):
    """A debug run where debugpy cannot be imported fails with DebuggerUnavailable instead of running undebugged."""

    def setUp(self):
        self.flow_dir = os.path.realpath(tempfile.mkdtemp(prefix="fs-flow-"))
        # a debugpy that cannot be imported, first on the path whatever the machine has installed
        self.fake = tempfile.mkdtemp(prefix="fs-nodebugpy-")
        write_files(self.fake, {"debugpy/__init__.py": "raise ImportError('no debugpy here')\n"})
        write_files(self.flow_dir, {"echo.py": """
            from promptflow import tool

            @tool
            def echo(text: str) -> str:
                return text
            """})
        self.rt = Runtime(self.flow_dir, env={"PYTHONPATH": os.pathsep.join([self.fake, RUNTIME_DIR])})

    def tearDown(self):
        self.rt.close()
        shutil.rmtree(self.flow_dir, ignore_errors=True)
        shutil.rmtree(self.fake, ignore_errors=True)

    def test_debug_run_fails_with_the_reason(self):
        flow = {"inputs": {"text": {"type": "string"}}, "outputs": {"out": {"reference": "${echo.output}"}},
                "nodes": [py_node("echo", "echo.py", {"text": "${inputs.text}"})]}
        events = []
        resp = self.rt.call("run", {"runId": "dbg-1", "flow": flow, "flowDir": self.flow_dir, "inputs": {"text": "hi"},
                                    "debug": True}, events=events)
        result = resp["result"]
        self.assertEqual(result["status"], "Failed")
        self.assertEqual(result["error"]["code"], "DebuggerUnavailable")
        self.assertIn("no debugpy here", result["error"]["message"])
        self.assertFalse([e for e in events if e.get("event") in ("debugListening", "nodeStart")])
        # the same flow runs when not debugging
        resp = self.rt.call("run", {"runId": "run-1", "flow": flow, "flowDir": self.flow_dir, "inputs": {"text": "hi"}})
        self.assertEqual(resp["result"]["outputs"], {"out": "hi"})


class DapRelayTest(unittest.TestCase):
    """The relay passes bytes both ways unchanged between its stdin/stdout and a loopback port, and ends with either."""

    def start_relay(self, port):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": RUNTIME_DIR}
        return subprocess.Popen([sys.executable, "-u", "-m", "flowsession_runtime.dap_relay", str(port)], env=env,
                                cwd=RUNTIME_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def test_bytes_both_ways_then_the_host_closes(self):
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        received = []

        def serve():
            conn, _ = server.accept()
            with conn:
                data = b""
                while not data.endswith(b"}"):
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                received.append(data)
                conn.sendall(b"Content-Length: 2\r\n\r\n{}" + bytes(range(256)))
                received.append(conn.recv(10) == b"")  # the relay closes once its stdin ends

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        relay = self.start_relay(server.getsockname()[1])
        relay.stdin.write(b"Content-Length: 2\r\n\r\n{}")
        relay.stdin.flush()
        out = b""
        want = b"Content-Length: 2\r\n\r\n{}" + bytes(range(256))
        while len(out) < len(want):
            chunk = relay.stdout.read1(4096)
            if not chunk:
                break
            out += chunk
        self.assertEqual(out, want)
        relay.stdin.close()
        self.assertEqual(relay.wait(timeout=10), 0)
        t.join(timeout=10)
        server.close()
        self.assertEqual(received, [b"Content-Length: 2\r\n\r\n{}", True])
        relay.stdout.close()
        relay.stderr.close()

    def test_ends_when_the_adapter_goes_and_says_so_when_nothing_listens(self):
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        relay = self.start_relay(server.getsockname()[1])
        conn, _ = server.accept()
        conn.close()
        server.close()
        self.assertEqual(relay.wait(timeout=10), 0)
        for f in (relay.stdin, relay.stdout, relay.stderr):
            f.close()
        # the port is closed now: nothing listens there
        relay = self.start_relay(_free_port())
        self.assertEqual(relay.wait(timeout=10), 1)
        self.assertIn(b"flowsession dap relay", relay.stderr.read())
        for f in (relay.stdin, relay.stdout, relay.stderr):
            f.close()


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


if __name__ == "__main__":
    unittest.main()
