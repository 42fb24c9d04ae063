"""Per-node capture of print output: sys.stdout/sys.stderr routed by thread to the running node.

Each node keeps at most `cap` characters (then a "[truncated]" marker) and streams what it keeps
as batched nodeLog events, so a tool printing 100 MB costs neither memory nor a flood of events.
"""
import io
import sys
import threading
import time

from .clock import log_now
from .wire import TRUNCATED

FLUSH_SECONDS = 0.1
FLUSH_CHARS = 8192
EVENT_TEXT_LIMIT = 64 * 1024


class Redactor:
    def __init__(self, secrets=()):
        self.secrets = sorted({s for s in secrets if isinstance(s, str) and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text):
        if text and self.secrets:
            for s in self.secrets:
                if s in text:
                    text = text.replace(s, "***")
        return text


class Capture:
    """Output of one node (or one batch line): kept text per stream plus pending event text."""

    __slots__ = ("hub", "node", "emit", "kept", "size", "truncated", "pending", "pending_size", "lock")

    def __init__(self, hub, node, emit):
        self.hub = hub
        self.node = node
        self.emit = emit
        self.kept = {"stdout": [], "stderr": []}
        self.size = 0
        self.truncated = False
        self.pending = []  # (stream, text)
        self.pending_size = 0
        self.lock = threading.Lock()

    def write(self, stream, text):
        text = self.hub.redact(text)
        with self.lock:
            if self.truncated:
                return
            room = self.hub.cap - self.size
            if len(text) > room:
                text = text[:room] + "\n" + TRUNCATED + "\n"
                self.truncated = True
            self.size += len(text)
            self.kept[stream].append(text)
            self.hub.log_line(self.node, stream, text)
            if self.emit:
                self.pending.append((stream, text))
                self.pending_size += len(text)
                flush_now = self.pending_size >= FLUSH_CHARS
            else:
                flush_now = False
        if flush_now:
            self.flush()

    def flush(self):
        if not self.pending:
            return  # most nodes print nothing (a write racing this check is as one just after the locked swap)
        with self.lock:
            pending, self.pending, self.pending_size = self.pending, [], 0
        if not pending:
            return
        merged = []
        for stream, text in pending:
            if merged and merged[-1][0] == stream:
                merged[-1][1].append(text)
            else:
                merged.append((stream, [text]))
        for stream, parts in merged:
            text = "".join(parts)
            for i in range(0, len(text), EVENT_TEXT_LIMIT):
                self.hub.channel.event("nodeLog", runId=self.hub.run_id, node=self.node, stream=stream,
                                       text=text[i:i + EVENT_TEXT_LIMIT])

    def text(self, stream):
        kept = self.kept[stream]
        return "".join(kept) if kept else ""


class Hub:
    """Routes writes to the capture of the current thread (or the only running node)."""

    def __init__(self, channel, run_id, cap, redact, log_cap=None):
        self.channel = channel
        self.run_id = run_id
        self.cap = cap
        self.redact = redact
        self.local = threading.local()
        self.active = set()
        self.lock = threading.Lock()
        self.log_parts = []
        self.log_size = 0
        self.log_cap = log_cap if log_cap is not None else 4 * cap
        self.log_truncated = False
        self._flusher = None

    def install(self):
        sys.stdout = _Router(self, "stdout", 1)
        sys.stderr = _Router(self, "stderr", 2)

    def begin(self, node, emit):
        cap = Capture(self, node, emit)
        self.local.capture = cap
        with self.lock:
            self.active.add(cap)
        if emit and self._flusher is None:
            self._flusher = threading.Thread(target=self._flush_loop, name="flowsession-log-flusher", daemon=True)
            self._flusher.start()
        return cap

    def end(self, cap):
        if getattr(self.local, "capture", None) is cap:
            self.local.capture = None
        with self.lock:
            self.active.discard(cap)
        cap.flush()

    def current(self):
        cap = getattr(self.local, "capture", None)
        if cap is None:
            # Threads started by a tool have no capture of their own; attribute when unambiguous.
            with self.lock:
                if len(self.active) == 1:
                    cap = next(iter(self.active))
        return cap

    def _flush_loop(self):
        while True:
            time.sleep(FLUSH_SECONDS)
            with self.lock:
                caps = list(self.active)
            for cap in caps:
                cap.flush()

    def log(self, message):
        if self.log_truncated:
            return
        self._append("[%s] %s\n" % (log_now(), message))

    def log_line(self, node, stream, text):
        if text and text.strip("\n") and not self.log_truncated:
            prefix = "[%s] [%s] %s> " % (log_now(), node or "flow", stream)
            self._append(prefix + text.rstrip("\n").replace("\n", "\n" + prefix) + "\n")

    def _append(self, text):
        with self.lock:
            if self.log_truncated:
                return
            if self.log_size + len(text) > self.log_cap:
                text = text[: max(0, self.log_cap - self.log_size)] + TRUNCATED + "\n"
                self.log_truncated = True
            self.log_parts.append(text)
            self.log_size += len(text)

    def log_text(self):
        with self.lock:
            return "".join(self.log_parts)


class _Router(io.TextIOBase):
    def __init__(self, hub, stream, fd):
        self.hub = hub
        self.stream = stream
        self.fd = fd

    def write(self, s):
        if not isinstance(s, str):
            s = str(s)
        cap = self.hub.current()
        if cap is not None:
            cap.write(self.stream, s)
        else:
            self.hub.log_line(None, self.stream, self.hub.redact(s))
        return len(s)

    def writable(self):
        return True

    def flush(self):
        pass

    def isatty(self):
        return False

    def fileno(self):
        return self.fd

    @property
    def encoding(self):
        return "utf-8"
