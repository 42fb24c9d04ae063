"""worker: a batch worker that an orchestrator runs (a Docker Swarm service task, a Kubernetes Job pod).

It connects OUT to the batch's coordinator (the CLI or the extension) over TLS, so it needs no inbound port,
no shared disk and no engine socket. The coordinator's certificate is made for this batch only: the worker
pins it by its SHA-256 fingerprint before it says anything, then proves itself with the batch's token. It
then takes leases on chunks of input lines and runs each chunk with the session runtime (a child
`python -m flowsession_runtime`, the same code a session runs), streaming every line's result back as it
ends. Connection secrets arrive with each lease, never in the worker's environment or arguments.

Messages both ways are JSON objects, one per line:
  worker -> coordinator: hello{token, worker, version}, lease, line{leaseId, line}, heartbeat{leaseId},
                         leaseEnd{leaseId, result | error}
  coordinator -> worker: welcome{flow, files, workers}, refused{message}, lease{leaseId, lines, params},
                         wait{ms}, done, cancel{leaseId}
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import select
import socket
import ssl
import subprocess
import sys
import time

PROTOCOL = 1
HEARTBEAT_SECONDS = 5.0
MAX_FRAME = 64 * 1024 * 1024  # src/core/runs/workers/workerProtocol.ts MAX_FRAME_BYTES
# a file batch written into the runtime's copy of the flow folder per request, below the runtime's own limit
WRITE_BATCH_BYTES = 16 * 1024 * 1024
EXIT_REFUSED = 2
EXIT_UNREACHABLE = 3


class Refused(Exception):
    pass


class ConnectionLost(Exception):
    pass


def log(message):
    sys.stderr.write("[flowsession worker] %s\n" % message)
    sys.stderr.flush()


class Frames:
    """Newline-delimited JSON over a (TLS) socket; reads without blocking once select said so."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def send(self, obj):
        try:
            self.sock.sendall(json.dumps(obj, separators=(",", ":")).encode("utf-8") + b"\n")
        except OSError as e:
            raise ConnectionLost("sending to the coordinator failed: %s" % e)

    def buffered(self):
        return b"\n" in self.buf or (hasattr(self.sock, "pending") and self.sock.pending() > 0)

    def _fill(self):
        try:
            data = self.sock.recv(1 << 16)
        except ssl.SSLWantReadError:
            return
        except OSError as e:
            raise ConnectionLost("the coordinator connection failed: %s" % e)
        if not data:
            raise ConnectionLost("the coordinator closed the connection")
        self.buf += data
        if len(self.buf) > MAX_FRAME:
            raise ConnectionLost("a message from the coordinator is too large")

    def poll(self):
        """The next whole message if one is there after at most one read, else None."""
        if b"\n" not in self.buf:
            self._fill()
        if b"\n" not in self.buf:
            return None
        nl = self.buf.index(b"\n")
        frame = bytes(self.buf[:nl])
        del self.buf[:nl + 1]
        msg = json.loads(frame)
        if not isinstance(msg, dict):
            raise ConnectionLost("the coordinator sent something that is not a message")
        return msg

    def recv(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            msg = self.poll() if self.buffered() else None
            if msg is not None:
                return msg
            left = deadline - time.monotonic()
            if left <= 0:
                raise ConnectionLost("the coordinator did not answer in %d s" % timeout)
            ready, _, _ = select.select([self.sock], [], [], left)
            if ready:
                msg = self.poll()
                if msg is not None:
                    return msg


class Runtime:
    """The session runtime as a child process, spoken to as the host speaks to it in a session."""

    def __init__(self, flow_dir):
        env = dict(os.environ)
        env.pop("FLOWSESSION_BATCH_TOKEN", None)  # user code in the runtime has no use for it
        self.proc = subprocess.Popen([sys.executable, "-u", "-m", "flowsession_runtime", "--flow-dir", flow_dir],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=flow_dir, env=env)
        self.fd = self.proc.stdout.fileno()
        self.buf = bytearray()
        self.next_id = 0

    def send(self, method, params):
        self.next_id += 1
        req = {"id": self.next_id, "method": method, "params": params}
        self.proc.stdin.write(json.dumps(req, separators=(",", ":")).encode("utf-8") + b"\n")
        self.proc.stdin.flush()
        return self.next_id

    def read_some(self):
        """Messages from what one read brings; raises when the runtime ended."""
        data = os.read(self.fd, 1 << 16)
        if not data:
            raise RuntimeError("the session runtime ended (exit code %s)" % self.proc.wait())
        self.buf += data
        out = []
        while b"\n" in self.buf:
            nl = self.buf.index(b"\n")
            frame = bytes(self.buf[:nl])
            del self.buf[:nl + 1]
            if frame.strip():
                out.append(json.loads(frame))
        return out

    def request(self, method, params):
        rid = self.send(method, params)
        while True:
            for msg in self.read_some():
                if msg.get("id") == rid:
                    if "error" in msg:
                        raise RuntimeError("%s: %s" % (method, (msg["error"] or {}).get("message")))
                    return msg.get("result")

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def connect(address, fingerprint, timeout=15.0):
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    raw = socket.create_connection((host, int(port)), timeout=timeout)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # the certificate is this batch's own, self-signed: it is trusted by its pinned fingerprint, not by a CA or name
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    sock = ctx.wrap_socket(raw)
    der = sock.getpeercert(binary_form=True) or b""
    if not hmac.compare_digest(hashlib.sha256(der).hexdigest(), fingerprint.lower().replace(":", "")):
        sock.close()
        raise Refused("the coordinator's certificate is not the one this batch was given (fingerprint mismatch)")
    sock.settimeout(None)
    return sock


def write_flow(runtime, files):
    batch, size = [], 0
    for f in files:
        n = len(f.get("content", "")) * 3 // 4
        if batch and size + n > WRITE_BATCH_BYTES:
            runtime.request("writeFiles", {"files": batch})
            batch, size = [], 0
        batch.append(f)
        size += n
    if batch:
        runtime.request("writeFiles", {"files": batch})


def run_lease(frames, runtime, welcome, lease):
    lease_id = str(lease["leaseId"])
    run_id = "lease_%s" % "".join(c for c in lease_id if c.isalnum() or c in "_-")[:64]
    content = "".join(line + "\n" for line in lease["lines"]).encode("utf-8")
    data_path = ".flowsession-batch/flowsession-data-%s.jsonl" % run_id
    runtime.request("writeFiles", {"files": [{"path": data_path, "content": base64.b64encode(content).decode("ascii")}]})
    params = dict(lease.get("params") or {})
    params.update(runId=run_id, flow=welcome["flow"], dataPath=data_path, removeData=True, aggValues=True)
    params.setdefault("workers", welcome.get("workers"))
    rid = runtime.send("batch", params)
    last_sent = time.monotonic()
    while True:
        ready, _, _ = select.select([runtime.fd, frames.sock], [], [], 0 if frames.buffered() else HEARTBEAT_SECONDS)
        if runtime.fd in ready:
            for msg in runtime.read_some():
                if msg.get("event") == "lineEnds" and msg.get("runId") == run_id:
                    # the coordinator takes each line as the session's client hands it on: a lineEnd event
                    for line in msg.get("lines") or []:
                        line.update(event="lineEnd", runId=run_id)
                        frames.send({"type": "line", "leaseId": lease_id, "line": line})
                    last_sent = time.monotonic()
                elif msg.get("id") == rid:
                    if "error" in msg:
                        frames.send({"type": "leaseEnd", "leaseId": lease_id, "error": msg["error"]})
                    else:
                        frames.send({"type": "leaseEnd", "leaseId": lease_id, "result": msg.get("result")})
                    return
        if frames.sock in ready or frames.buffered():
            try:
                msg = frames.poll()
            except ConnectionLost:
                runtime.send("cancel", {"runId": run_id})
                raise
            if msg and msg.get("type") == "cancel":
                runtime.send("cancel", {"runId": run_id})
        if time.monotonic() - last_sent >= HEARTBEAT_SECONDS:
            frames.send({"type": "heartbeat", "leaseId": lease_id})
            last_sent = time.monotonic()


def serve(address, fingerprint, token, flow_dir, name, welcomed):
    """One connection's life; returns when the coordinator says done. Calls welcomed() once let in."""
    sock = connect(address, fingerprint)
    frames = Frames(sock)
    frames.send({"type": "hello", "token": token, "worker": name, "version": PROTOCOL})
    welcome = frames.recv(60)
    if welcome.get("type") == "refused":
        raise Refused(str(welcome.get("message") or "the coordinator refused this worker"))
    if welcome.get("type") != "welcome" or not isinstance(welcome.get("flow"), dict):
        raise ConnectionLost("the coordinator did not welcome this worker")
    welcomed()
    runtime = Runtime(flow_dir)
    try:
        write_flow(runtime, welcome.get("files") or [])
        while True:
            frames.send({"type": "lease"})
            msg = frames.recv(120)
            kind = msg.get("type")
            if kind == "lease":
                run_lease(frames, runtime, welcome, msg)
            elif kind == "wait":
                time.sleep(min(max(float(msg.get("ms") or 500), 50.0), 5000.0) / 1000.0)
            elif kind == "done":
                return
    finally:
        runtime.close()
        try:
            sock.close()
        except OSError:
            pass


def no_new_privileges():
    """Sets no_new_privs for this process and all it starts (the runtime, user code): a setuid binary in the image
    gains nothing. Docker sets it for a session; a swarm service can only since API 1.44, a pod only by its spec."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
            log("could not set no_new_privs (errno %d)" % ctypes.get_errno())
    except (OSError, AttributeError) as e:
        log("could not set no_new_privs: %s" % e)


def main(argv=None):
    no_new_privileges()
    parser = argparse.ArgumentParser(prog="flowsession_runtime.worker")
    parser.add_argument("--coordinator", default=os.environ.get("FLOWSESSION_COORDINATOR"))
    parser.add_argument("--fingerprint", default=os.environ.get("FLOWSESSION_COORDINATOR_FINGERPRINT"))
    parser.add_argument("--flow-dir", default="/flow")
    parser.add_argument("--give-up-seconds", type=float, default=120.0)
    args = parser.parse_args(argv)
    token = os.environ.get("FLOWSESSION_BATCH_TOKEN", "")
    if not args.coordinator or not args.fingerprint:
        log("needs --coordinator host:port and --fingerprint (or FLOWSESSION_COORDINATOR and "
            "FLOWSESSION_COORDINATOR_FINGERPRINT)")
        return EXIT_REFUSED
    name = os.environ.get("FLOWSESSION_WORKER_NAME") or socket.gethostname()
    os.makedirs(args.flow_dir, exist_ok=True)
    # bounded: every attempt that fails before a welcome counts against give-up-seconds; a lost connection after
    # one starts the count again (the coordinator gives this worker's lease to others meanwhile)
    deadline = {"at": time.monotonic() + args.give_up_seconds}

    def welcomed():
        deadline["at"] = time.monotonic() + args.give_up_seconds

    delay = 0.5
    while True:
        try:
            serve(args.coordinator, args.fingerprint, token, args.flow_dir, name, welcomed)
            return 0
        except Refused as e:
            log(str(e))
            return EXIT_REFUSED
        except (OSError, ConnectionLost, RuntimeError, ValueError) as e:
            if time.monotonic() > deadline["at"]:
                log("giving up: %s" % e)
                return EXIT_UNREACHABLE
            log("%s; trying again" % e)
        time.sleep(delay)
        delay = min(delay * 2, 5.0)


if __name__ == "__main__":
    sys.exit(main())
