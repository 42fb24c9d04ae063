"""Fresh children for each request: os.fork() plus a pipe for the child's events and result.

Frames on the pipe are single lines: b"E" + event JSON, b"R" + result JSON or b"X" + error JSON.
The parent relays event bytes without re-encoding them.
"""
import json
import os
import signal
import socket
import threading

from .wire import RuntimeFailure, dumps


class Channel:
    """The child's end of the pipe. Thread-safe: node threads emit events concurrently."""

    def __init__(self, fd):
        self.fd = fd
        self._lock = threading.Lock()

    def _send(self, kind, obj):
        data = kind + dumps(obj).encode("utf-8") + b"\n"
        with self._lock:
            view = memoryview(data)
            while view:
                n = os.write(self.fd, view)
                view = view[n:]

    def event(self, name, **fields):
        ev = {"event": name}
        ev.update(fields)
        self._send(b"E", ev)

    def raw_event(self, data):
        """An event already encoded as one line of JSON (bytes, no newline)."""
        data = b"E" + data + b"\n"
        with self._lock:
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view):]

    def result(self, result):
        self._send(b"R", result)

    def error(self, code, message, detail=None):
        err = {"code": code, "message": message}
        if detail:
            err["detail"] = detail
        self._send(b"X", err)


def _close_inherited(keep):
    # The parent's protocol fd and the pipes of sibling children must not stay open here, or
    # the parent would never see EOF on a sibling's pipe and the child could write protocol bytes.
    try:
        fds = [int(x) for x in os.listdir("/proc/self/fd")]
    except OSError:
        fds = range(3, 1024)
    for fd in fds:
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


# what a child's channel holds before the child waits for the runtime to read: a batch sends its results in events of
# up to a few hundred KB, which a 64 KB pipe would make it wait out piece by piece
CHANNEL_PIPE_BYTES = 1 << 20


def grow_pipe(fd, size):
    """Asks the kernel for a pipe of `size` bytes (Linux); a smaller one only makes the writer wait more often."""
    try:
        import fcntl
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (OSError, ImportError):
        pass


def spawn(target, *args, keep_fds=()):
    """Fork; the child runs target(channel, *args) and always ends with os._exit.

    Returns (pid, read_fd) in the parent. The child leads its own process group so that a
    cancel or timeout can kill it together with any batch workers or subprocesses it started.
    """
    r, w = os.pipe()
    grow_pipe(w, CHANNEL_PIPE_BYTES)
    pid = os.fork()
    if pid == 0:
        _child(w, set(keep_fds), lambda: (target, args))
    return pid, _parent_end(pid, r, w)


class Spare:
    """A child forked ahead of need, waiting for its request on a pipe: a request handed to it pays no fork.

    Its target and arguments come as one JSON frame [method, params, flow_dir]; it then runs exactly as a
    spawned child would. Closing the pipe without a request makes it exit.
    """

    def __init__(self, pid, request, read_fd):
        self.pid = pid
        self.request = request
        self.read_fd = read_fd

    def alive(self):
        try:
            done, _status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return False
        return done == 0

    def hand(self, method, params, flow_dir):
        """Gives the spare its request; (pid, read_fd) as spawn returns them. OSError: the spare is gone."""
        data = dumps([method, params, flow_dir]).encode("utf-8")
        try:
            # MSG_NOSIGNAL: a spare that died must raise EPIPE here, not SIGPIPE the runtime
            self.request.sendall(data, socket.MSG_NOSIGNAL)
            self.request.shutdown(socket.SHUT_WR)
        finally:
            self.request.close()
        return self.pid, self.read_fd

    def discard(self):
        self.request.close()
        try:
            os.close(self.read_fd)
        except OSError:
            pass
        kill_group(self.pid, signal.SIGKILL)
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def fork_spare(target, prewarm=None):
    """A Spare that will run target(channel, method, params, flow_dir) once its request arrives; it calls prewarm()
    first, while it waits."""
    ours, theirs = socket.socketpair()
    r, w = os.pipe()
    grow_pipe(w, CHANNEL_PIPE_BYTES)
    pid = os.fork()
    if pid == 0:
        def wait_for_request():
            ours.close()
            if prewarm is not None:
                try:
                    prewarm()
                except Exception:
                    pass  # an optimisation: the request runs all the same
            chunks = []
            while True:
                chunk = theirs.recv(1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
            theirs.close()
            if not chunks:
                os._exit(0)  # discarded, or the runtime is gone
            return target, tuple(json.loads(b"".join(chunks)))
        _child(w, {theirs.fileno(), ours.fileno()}, wait_for_request)
    theirs.close()
    return Spare(pid, ours, _parent_end(pid, r, w))


def _parent_end(pid, r, w):
    try:
        os.setpgid(pid, pid)
    except OSError:
        pass  # the child already did it, or already exited
    os.close(w)
    os.set_blocking(r, False)
    return r


def _child(w, keep_fds, work):
    """The forked child's whole life: its own process group, default signals, only its own fds; never returns."""
    code = 0
    try:
        os.setpgid(0, 0)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        _close_inherited({w} | keep_fds)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        channel = Channel(w)
        try:
            target, args = work()
            target(channel, *args)
        except RuntimeFailure as e:
            channel.error(e.code, e.message, e.detail)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException as e:  # noqa: B902 - the child must report, never unwind into the parent's loop
            try:
                channel.error("RuntimeError", "%s: %s" % (type(e).__name__, e))
            except BaseException:
                code = 70
    finally:
        os._exit(code)


def usable_cpus():
    """The CPUs this process may use: its affinity, capped by the container's CPU quota (cgroup v2 or v1)."""
    try:
        cpus = float(len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        cpus = float(os.cpu_count() or 1)
    quota = None
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            limit, period = f.read().split()[:2]
        if limit != "max":
            quota = int(limit) / int(period)
    except (OSError, ValueError):
        try:
            with open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") as f:
                limit = int(f.read())
            with open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as f:
                period = int(f.read())
            if limit > 0 and period > 0:
                quota = limit / period
        except (OSError, ValueError):
            pass
    return min(cpus, quota) if quota else cpus


def describe_status(status):
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return "killed by signal %s" % name, None, sig
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
        return "exit code %d" % code, code, None
    return "status %d" % status, None, None


def kill_group(pid, sig):
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
