"""The long-lived runtime process: a single-threaded event loop over stdin and the children's pipes.

Single-threaded on purpose: os.fork() from a process with other threads can deadlock the child
on a lock held by a thread that does not exist there.
"""
import json
import os
import platform
import select
import selectors
import signal
import sys
import time

from . import forking
from .wire import PROTOCOL_VERSION, dumps

ACTIVITY_INTERVAL = 30.0
WARMUP_AFTER_QUIET = 0.1
KILL_GRACE = 2.0
DEFAULT_TIMEOUTS = {"validate": 60.0, "run": 600.0, "batch": 600.0}
FORKED_METHODS = ("validate", "run", "batch")


def _child_entry(channel, method, params, flow_dir):
    # Imported here, after the fork, only to find the already-loaded modules.
    from . import child
    child.main(channel, method, params, flow_dir)


def _prewarm():
    from . import child
    child.prewarm()


class Job:
    def __init__(self, req_id, method, run_id, pid, fd, deadline):
        self.req_id = req_id
        self.method = method
        self.run_id = run_id
        self.pid = pid
        self.fd = fd
        self.deadline = deadline
        self.buf = bytearray()  # bytearray: a large result arrives in many reads
        self.scanned = 0
        self.answered = False
        self.running_nodes = {}  # node -> start time, to report Canceled on kill


class Server:
    def __init__(self, flow_dir, out_fd, activity_file, warmup=None):
        self.flow_dir = flow_dir
        # what the flow folder holds, for the host's next sync (tests on a host point it elsewhere)
        from .filesync import MANIFEST_PATH
        self.manifest_path = os.environ.get("FLOWSESSION_SYNC_MANIFEST") or MANIFEST_PATH
        # Imports every child needs, run once the first answers are out: the session is ready at the
        # first ping instead of after ~300 ms of imports, and later forks still start warm.
        self.warmup = warmup
        self.out_fd = out_fd
        self.activity_file = activity_file
        self.sel = selectors.DefaultSelector()
        self.jobs = {}  # fd -> Job
        self.runs = {}  # runId -> Job
        self.dying = {}  # pid -> (kill deadline or None)
        self.in_buf = b""
        self.last_touch = 0.0
        self.stopping = False
        # a child forked while the runtime is idle, ready for the next validate or run (a fork costs milliseconds)
        self.spare = None
        self.spare_wanted = False
        # with two CPUs or more the next spare is forked while a job works; on one, only once it has answered (a
        # fork beside the job would take the job's CPU)
        self.spare_beside_job = forking.usable_cpus() >= 2
        # user code ran in the flow folder since it was last tidied; paths an archive copy is bringing in
        self.flow_used = False
        self.arriving = ()

    # -- output ---------------------------------------------------------------------------
    def write_bytes(self, data):
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.out_fd, view)
            except BlockingIOError:
                # the host reads slower than a batch sends: wait until it has read, not a fixed while (a batch's
                # megabytes would wait out thousands of sleeps)
                select.select([], [self.out_fd], [])
                continue
            view = view[n:]

    def send(self, obj):
        self.write_bytes(dumps(obj).encode("utf-8") + b"\n")

    def reply(self, req_id, result):
        self.send({"id": req_id, "result": result})

    def reply_error(self, req_id, code, message, detail=None):
        err = {"code": code, "message": message}
        if detail:
            err["detail"] = detail
        self.send({"id": req_id, "error": err})

    # -- activity -------------------------------------------------------------------------
    def touch(self):
        self.last_touch = time.time()
        try:
            with open(self.activity_file, "a"):
                pass
            os.utime(self.activity_file, None)
        except OSError:
            pass

    # -- requests -------------------------------------------------------------------------
    def handle_line(self, line):
        line = line.strip()
        if not line:
            return
        try:
            req = json.loads(line)
            if not isinstance(req, dict) or "method" not in req:
                raise ValueError("not a request")
        except ValueError as e:
            self.reply_error(None, "InvalidRequest", "Request is not valid JSON-RPC: %s" % e)
            return
        req_id = req.get("id")
        method = req.get("method")
        params = req.get("params") or {}
        self.touch()
        if not isinstance(params, dict):
            self.reply_error(req_id, "InvalidParams", "params must be an object")
            return
        if method == "ping":
            self.reply(req_id, {"pong": True})
        elif method == "version":
            self.reply(req_id, version_info())
        elif method == "cancel":
            job = self.runs.get(params.get("runId"))
            if job is not None and not job.answered:
                self.stop_job(job, "Cancelled", "The run was canceled.")
                self.reply(req_id, {"cancelled": True})
            else:
                self.reply(req_id, {"cancelled": False})
        elif method == "writeFiles":
            from .filesync import SyncError, write_files
            try:
                self.reply(req_id, write_files(self.flow_dir, params.get("files"), bool(params.get("clear"))))
            except (SyncError, ValueError, OSError) as e:
                self.reply_error(req_id, "InvalidParams", "writeFiles: %s" % e)
        elif method == "syncState":
            from .filesync import read_manifest
            self.reply(req_id, {"manifest": read_manifest(self.manifest_path)})
        elif method == "syncFiles":
            from .filesync import SyncError, sync_files
            record = []
            forget = params.get("forget")
            self.arriving = tuple(p for p in forget if isinstance(p, str)) if isinstance(forget, list) else ()
            try:
                self.reply(req_id, sync_files(self.flow_dir, params, self.manifest_path, then=record.append))
            except (SyncError, ValueError, OSError) as e:
                self.reply_error(req_id, "InvalidParams", "syncFiles: %s" % e)
            for write in record:  # the manifest, once the host has its answer (a save waits one write less)
                try:
                    write()
                except OSError as e:
                    sys.stderr.write("flowsession runtime: could not record the flow manifest: %s\n" % e)
        elif method == "shutdown":
            self.reply(req_id, {"ok": True})
            self.stopping = True
        elif method in FORKED_METHODS:
            self.start_job(req_id, method, params)
        else:
            self.reply_error(req_id, "MethodNotFound", "Unknown method '%s'." % method)

    def start_job(self, req_id, method, params):
        if self.warmup is not None:
            warmup, self.warmup = self.warmup, None
            warmup()
        run_id = params.get("runId")
        if method != "validate":
            if not isinstance(run_id, str) or not run_id:
                self.reply_error(req_id, "InvalidParams", "%s needs a runId string" % method)
                return
            if run_id in self.runs:
                self.reply_error(req_id, "RunIdInUse", "A run with id '%s' is already going." % run_id)
                return
        if not isinstance(params.get("flow"), dict):
            self.reply_error(req_id, "InvalidParams", "%s needs the flow as a JSON object" % method)
            return
        timeout = params.get("timeoutSeconds")
        if not isinstance(timeout, (int, float)) or timeout <= 0:
            timeout = DEFAULT_TIMEOUTS[method]
        flow_dir = params.get("flowDir") or self.flow_dir
        if method == "validate" and self.validate_here(req_id, params, flow_dir):
            return
        pid, fd = self.fork_for(method, params, flow_dir)
        if os.path.realpath(flow_dir) == os.path.realpath(self.flow_dir):
            self.flow_used = True
        job = Job(req_id, method, run_id if method != "validate" else None, pid, fd, time.monotonic() + timeout)
        job.timeout = timeout
        self.jobs[fd] = job
        if job.run_id:
            self.runs[job.run_id] = job
        self.sel.register(fd, selectors.EVENT_READ, job)

    def validate_here(self, req_id, params, flow_dir):
        """Answers a validate that runs no user code without a child; False when it needs one."""
        from . import validate
        from .wire import RuntimeFailure
        flow_dir = os.path.realpath(flow_dir)
        if not os.path.isdir(flow_dir) or not validate.runs_no_user_code(params, flow_dir):
            return False
        try:
            result = validate.validate(params, flow_dir)
        except RuntimeFailure as e:
            self.reply_error(req_id, e.code, e.message, e.detail)
        except Exception as e:  # noqa: B902 - a bug in a check must answer, not end the runtime
            self.reply_error(req_id, "RuntimeError", "%s: %s" % (type(e).__name__, e))
        else:
            self.reply(req_id, result)
        return True

    def fork_for(self, method, params, flow_dir):
        spare, self.spare = self.spare, None
        self.spare_wanted = True
        if spare is not None:
            if spare.alive():
                try:
                    return spare.hand(method, params, flow_dir)
                except OSError:
                    pass
            spare.discard()
        return forking.spawn(_child_entry, method, params, flow_dir)

    def tidy_flow(self):
        """Once no job runs, removes what user code wrote into the flow folder: the session's copy stays exactly the
        host's flow folder (a file written there would be importable here and nowhere else)."""
        if not self.flow_used or self.jobs or self.dying or self.stopping:
            return
        self.flow_used = False
        from .filesync import remove_strays
        try:
            removed = remove_strays(self.flow_dir, self.manifest_path, self.arriving)
        except OSError as e:
            sys.stderr.write("flowsession runtime: could not tidy the flow folder: %s\n" % e)
            return
        if removed:
            sys.stderr.write("flowsession runtime: removed %d file(s) the flow wrote into its folder\n" % len(removed))

    def prepare_spare(self):
        """Forks the next spare after a job took the last one, so the next request pays no fork."""
        if not self.spare_wanted or self.spare is not None or self.warmup is not None or self.stopping:
            return
        if not self.spare_beside_job and any(not job.answered for job in self.jobs.values()):
            return
        self.spare = forking.fork_spare(_child_entry, _prewarm)
        self.spare_wanted = False

    # -- children -------------------------------------------------------------------------
    def on_child_readable(self, job):
        try:
            data = os.read(job.fd, 1 << 20)
        except BlockingIOError:
            return
        if not data:
            self.on_child_eof(job)
            return
        job.buf += data
        while True:
            nl = job.buf.find(b"\n", job.scanned)
            if nl < 0:
                job.scanned = len(job.buf)
                break
            frame = bytes(job.buf[:nl])
            del job.buf[:nl + 1]
            job.scanned = 0
            self.on_frame(job, frame)

    def on_frame(self, job, frame):
        if job.answered or not frame:
            return
        kind, payload = frame[:1], frame[1:]
        if kind == b"E":
            if job.method == "run":
                self.track_node(job, payload)
            self.write_bytes(payload + b"\n")
        elif kind == b"R":
            job.answered = True
            self.write_bytes(b'{"id":' + dumps(job.req_id).encode() + b',"result":' + payload + b"}\n")
        elif kind == b"X":
            job.answered = True
            self.write_bytes(b'{"id":' + dumps(job.req_id).encode() + b',"error":' + payload + b"}\n")

    def track_node(self, job, payload):
        if b'"nodeStart"' in payload or b'"nodeEnd"' in payload:
            try:
                ev = json.loads(payload)
            except ValueError:
                return
            if ev.get("event") == "nodeStart":
                job.running_nodes[ev.get("node")] = time.monotonic()
            elif ev.get("event") == "nodeEnd":
                job.running_nodes.pop(ev.get("node"), None)

    def detach(self, job):
        try:
            self.sel.unregister(job.fd)
        except (KeyError, ValueError):
            pass
        try:
            os.close(job.fd)
        except OSError:
            pass
        self.jobs.pop(job.fd, None)
        if job.run_id and self.runs.get(job.run_id) is job:
            del self.runs[job.run_id]

    def on_child_eof(self, job):
        self.detach(job)
        status = self.reap(job.pid, wait=2.0)
        if not job.answered:
            job.answered = True
            if status is None:
                how = "did not exit"
            else:
                how, _code, _sig = forking.describe_status(status)
            self.end_running_nodes(job, "Failed", {"code": "RuntimeCrashed",
                                                   "message": "The run's process ended unexpectedly (%s)." % how})
            self.reply_error(job.req_id, "RuntimeCrashed",
                             "The %s process ended unexpectedly (%s); user code may have crashed, called "
                             "os._exit or been killed (out of memory?)." % (job.method, how))
        if status is None:
            self.dying[job.pid] = time.monotonic()

    def reap(self, pid, wait=0.0):
        end = time.monotonic() + wait
        while True:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return 0
            if done:
                return status
            if time.monotonic() >= end:
                return None
            time.sleep(0.002)

    def end_running_nodes(self, job, status, error):
        now = time.monotonic()
        for node, started in list(job.running_nodes.items()):
            ev = {"event": "nodeEnd", "runId": job.run_id, "node": node, "status": status,
                  "durationMs": int((now - started) * 1000)}
            if error:
                ev["error"] = error
            self.send(ev)
        job.running_nodes.clear()

    def stop_job(self, job, code, message):
        job.answered = True
        forking.kill_group(job.pid, signal.SIGTERM)
        self.detach(job)
        self.dying[job.pid] = time.monotonic() + KILL_GRACE
        self.end_running_nodes(job, "Canceled", None)
        self.reply_error(job.req_id, code, message)

    def check_deadlines(self):
        now = time.monotonic()
        for job in list(self.jobs.values()):
            if not job.answered and now >= job.deadline:
                self.stop_job(job, "RunTimeout", "The %s timed out after %g seconds." % (job.method, job.timeout))
        for pid, kill_at in list(self.dying.items()):
            if self.reap(pid) is not None:
                del self.dying[pid]
            elif kill_at is not None and now >= kill_at:
                forking.kill_group(pid, signal.SIGKILL)
                self.dying[pid] = None

    # -- loop -----------------------------------------------------------------------------
    def next_timeout(self):
        now = time.monotonic()
        t = ACTIVITY_INTERVAL
        for job in self.jobs.values():
            t = min(t, max(0.0, job.deadline - now))
        if self.dying:
            t = min(t, 0.05)
        return t

    def serve(self):
        os.set_blocking(0, False)
        self.sel.register(0, selectors.EVENT_READ, None)
        self.touch()
        while not self.stopping:
            timeout = 0.05 if self.warmup is not None else self.next_timeout()
            events = self.sel.select(timeout)
            for key, _ in events:
                if key.data is None:
                    self.on_stdin()
                else:
                    self.on_child_readable(key.data)
                if self.stopping:
                    break
            # warm up once the first burst of requests (ping, file copies) is answered and all is quiet
            if self.warmup is not None and not events and time.time() - self.last_touch >= WARMUP_AFTER_QUIET:
                warmup, self.warmup = self.warmup, None
                warmup()
            self.check_deadlines()
            self.tidy_flow()
            self.prepare_spare()
            if self.jobs and time.time() - self.last_touch >= ACTIVITY_INTERVAL:
                self.touch()
        self.shutdown()

    def on_stdin(self):
        try:
            data = os.read(0, 1 << 16)
        except BlockingIOError:
            return
        if not data:
            self.stopping = True
            return
        self.in_buf += data
        while not self.stopping:
            nl = self.in_buf.find(b"\n")
            if nl < 0:
                break
            line, self.in_buf = self.in_buf[:nl], self.in_buf[nl + 1:]
            self.handle_line(line.decode("utf-8", "replace"))

    def shutdown(self):
        if self.spare is not None:
            self.spare.discard()
            self.spare = None
        for job in list(self.jobs.values()):
            forking.kill_group(job.pid, signal.SIGKILL)
            self.detach(job)
            self.reap(job.pid, wait=1.0)
        for pid in list(self.dying):
            forking.kill_group(pid, signal.SIGKILL)
            self.reap(pid, wait=1.0)


def version_info():
    import importlib
    try:
        import jinja2
        jinja_version = getattr(jinja2, "__version__", None)
    except ImportError:
        jinja_version = None
    pf_version = None
    try:
        pf = importlib.import_module("promptflow")
        if not getattr(pf, "__flowsession_shim__", False):
            try:
                from importlib import metadata
                pf_version = metadata.version("promptflow")
            except Exception:
                try:
                    from importlib import metadata
                    pf_version = metadata.version("promptflow-core")
                except Exception:
                    pf_version = getattr(pf, "__version__", None) or "unknown"
    except Exception:
        pf_version = None
    return {
        "runtime": os.environ.get("FLOWSESSION_RUNTIME_VERSION", "dev"),
        "protocol": PROTOCOL_VERSION,
        "python": platform.python_version(),
        "jinja2": jinja_version,
        "promptflow": pf_version,
    }


def serve(flow_dir, warmup=None):
    # stdout carries only protocol lines: keep a private copy of fd 1 for them and point fd 1 at
    # stderr, so stray prints (C extensions, subprocesses, forked children) cannot corrupt it.
    out_fd = os.dup(1)
    # a batch's results leave in events of a few hundred KB: a larger pipe to the host (when it is one) spares waits
    forking.grow_pipe(out_fd, forking.CHANNEL_PIPE_BYTES)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    activity = os.environ.get("FLOWSESSION_ACTIVITY_FILE", "/tmp/flowsession-activity")
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    Server(flow_dir, out_fd, activity, warmup).serve()
