"""batch: lines of a .jsonl file run across N worker processes, streamed back as lineEnd events.

The coordinator (the request's child) loads the flow's tools once, then forks workers that inherit
them, as prompt flow's line processes do; each worker runs one line at a time. Lines are read
lazily and results streamed, so memory stays bounded for any number of lines. A worker that
crashes or exceeds the line timeout fails only its line and is replaced.
"""
import json
import os
import selectors
import signal
import time

from . import capture, connections as conn_mod, filesync, forking, metrics, prompty, run as run_mod, tracing
from .column_mapping import check_mapping, load_base_run, map_inputs
from .executor import jsonable_record
from .wire import RuntimeFailure, dumps, to_jsonable

LINE_OUTPUT_CAP = 64 * 1024
MAX_WORKERS = 64
# most batch lines wait on a model or a service, not on the CPU: enough workers to keep those waits overlapped
# (workers are forked only as lines need them, so a short batch starts no more than it has lines)
DEFAULT_WORKERS = 16


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _run_one(executor, mapping, run_id, idx, text, base=None):
    t0 = time.monotonic()
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("the line is not a JSON object")
    except ValueError as e:
        return {"index": idx, "status": "Failed", "durationMs": 0,
                "error": {"code": "InvalidDataLine", "message": "Line %d of the input data is not a JSON object: %s"
                          % (idx, e)}}
    try:
        inputs = map_inputs(mapping, data, executor.input_defs, (base or {}).get(idx))
    except RuntimeFailure as e:
        return {"index": idx, "status": "Failed", "durationMs": 0, "error": e.to_dict()}
    line = executor.run_line(inputs, "%s_%d" % (run_id, idx), idx)
    out = {"index": idx, "status": line["status"], "durationMs": int((time.monotonic() - t0) * 1000),
           "inputs": line.get("inputs")}
    if line.get("trace"):
        out["trace"] = line["trace"]
    if line["status"] == "Completed":
        out["output"] = line["outputs"]
        if line.get("agg"):
            out["agg"] = line["agg"]
    else:
        out["error"] = line["error"]
    return out


def _worker_main(task_fd, result_fd, executor, mapping, run_id, base):
    with os.fdopen(task_fd, "rb") as tasks:
        for raw in tasks:
            idx_text, _, text = raw.partition(b" ")
            res = _run_one(executor, mapping, run_id, int(idx_text), text.decode("utf-8", "replace"), base)
            _write_all(result_fd, _result_frame(res, run_id))


def _result_frame(res, run_id):
    """`<failed 0|1> <has aggregation values 0|1> <json>`: a line without aggregation values comes as its finished
    lineEnd event, which the coordinator passes on without parsing it again (most of its work on a large batch)."""
    failed = 0 if res["status"] == "Completed" else 1
    if res.get("agg"):
        return b"%d 1 " % failed + dumps(res).encode("utf-8") + b"\n"
    event = {"event": "lineEnd", "runId": run_id}
    event.update(res)
    return b"%d 0 " % failed + dumps(event).encode("utf-8") + b"\n"


class Worker:
    def __init__(self, executor, mapping, run_id, base=None):
        t_r, t_w = os.pipe()
        r_r, r_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                forking._close_inherited({t_r, r_w})
                _worker_main(t_r, r_w, executor, mapping, run_id, base)
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            except BaseException:
                code = 70
            finally:
                os._exit(code)
        os.close(t_r)
        os.close(r_w)
        self.pid, self.task_fd, self.result_fd = pid, t_w, r_r
        self.buf = bytearray()
        self.current = None  # (index, started)

    def send(self, idx, text):
        self.current = (idx, time.monotonic())
        _write_all(self.task_fd, b"%d " % idx + text.encode("utf-8") + b"\n")

    def close(self, sig=None):
        for fd in (self.task_fd, self.result_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        if sig is not None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            status = 0
        return status


def _lines(path, base=None):
    """(line number, text) of each data line; with a base run, only the lines it has outputs for."""
    with open(path, encoding="utf-8") as f:
        idx = 0
        for text in f:
            text = text.strip()
            if text:
                if base is None or (base.get(idx) or {}).get("outputs") is not None:
                    yield idx, text
                idx += 1


class Batch:
    def __init__(self, params, executor, channel, run_id, base=None):
        self.executor = executor
        self.channel = channel
        self.run_id = run_id
        self.mapping = params.get("columnMapping") or {}
        self.base = base
        workers = params.get("workers")
        self.n = max(1, min(int(workers) if isinstance(workers, (int, float)) else DEFAULT_WORKERS, MAX_WORKERS))
        lt = params.get("lineTimeoutSeconds")
        self.line_timeout = float(lt) if isinstance(lt, (int, float)) and lt > 0 else 600.0
        self.total = self.failed = 0
        self.agg = {}  # node -> input -> [(index, value)]
        # a multi-engine batch gathers each line's aggregation values itself and aggregates once at the end
        self.keep_agg = bool(params.get("aggValues"))
        self.sel = selectors.DefaultSelector()
        self.workers = []

    def spawn(self):
        w = Worker(self.executor, self.mapping, self.run_id, self.base)
        self.workers.append(w)
        self.sel.register(w.result_fd, selectors.EVENT_READ, w)
        return w

    def retire(self, w, sig=None):
        self.sel.unregister(w.result_fd)
        self.workers.remove(w)
        return w.close(sig)

    def finish_line(self, res):
        self.total += 1
        if res["status"] != "Completed":
            self.failed += 1
        agg = res.pop("agg", None)
        if agg and self.keep_agg:
            res["agg"] = agg
        for node, values in (agg or {}).items():
            for k, v in values.items():
                self.agg.setdefault(node, {}).setdefault(k, []).append((res["index"], v))
        self.channel.event("lineEnd", runId=self.run_id, **res)

    def fail_line(self, idx, code, message):
        self.finish_line({"index": idx, "status": "Failed", "durationMs": 0,
                          "error": {"code": code, "message": message}})

    def run(self, lines):
        pending = iter(lines)
        exhausted = False
        idle = []
        while True:
            while (idle or len(self.workers) < self.n) and not exhausted:
                nxt = next(pending, None)
                if nxt is None:
                    exhausted = True
                    break
                (idle.pop() if idle else self.spawn()).send(*nxt)
            busy = [w for w in self.workers if w.current is not None]
            if exhausted and not busy:
                break
            now = time.monotonic()
            wait = min([w.current[1] + self.line_timeout - now for w in busy] + [1.0])
            for key, _ in self.sel.select(max(0.0, wait)):
                w = key.data
                data = os.read(w.result_fd, 1 << 16)
                if not data:
                    idx = w.current[0] if w.current else None
                    how, _c, _s = forking.describe_status(self.retire(w))
                    if w in idle:
                        idle.remove(w)
                    if idx is not None:
                        self.fail_line(idx, "RuntimeCrashed", "The process running line %d ended unexpectedly (%s)."
                                       % (idx, how))
                    continue  # the next line that needs a worker forks a new one
                w.buf += data
                while b"\n" in w.buf:
                    nl = w.buf.index(b"\n")
                    frame = bytes(w.buf[:nl])
                    del w.buf[:nl + 1]
                    w.current = None
                    failed, has_agg, payload = frame.split(b" ", 2)
                    if has_agg == b"1":
                        self.finish_line(json.loads(payload))
                    else:
                        self.total += 1
                        self.failed += failed == b"1"
                        self.channel.raw_event(payload)
                    idle.append(w)
            now = time.monotonic()
            for w in [w for w in self.workers if w.current is not None]:
                if now - w.current[1] > self.line_timeout:
                    idx = w.current[0]
                    self.retire(w, signal.SIGKILL)
                    if w in idle:
                        idle.remove(w)
                    self.fail_line(idx, "LineExecutionTimeoutError", "Line %d execution timeout for exceeding %g "
                                   "seconds." % (idx, self.line_timeout))
        for w in list(self.workers):
            self.retire(w)

    def aggregation(self, given=None):
        if not self.executor.agg_nodes or (self.keep_agg and given is None):
            return None
        lists = given if given is not None else {
            node: {k: [v for _i, v in sorted(pairs, key=lambda p: p[0])] for k, pairs in inputs.items()}
            for node, inputs in self.agg.items()}
        self.executor.emit_events = True
        self.executor.begin_trace("aggregation", {"flowsession.run_id": self.run_id})
        records, failure = self.executor.run_aggregation(lists, self.run_id)
        trace = self.executor.end_trace(failure is None, failure["error"].get("message") if failure else None)
        out = {"status": "Failed" if failure else "Completed",
               "outputs": {r["node"]: r.get("output") for r in records if r["status"] == "Completed"},
               "nodeRuns": [jsonable_record(r, self.run_id, 0) for r in records]}
        if failure:
            out["error"] = failure["error"]
        if trace:
            out["trace"] = trace
        return out


def _finish_trace(result, batch_span):
    """The batch's own spans (its root and the aggregation's) into the result; the lines sent theirs already."""
    if batch_span is None:
        return
    batch_span.set("flowsession.lines.total", result["total"])
    batch_span.set("flowsession.lines.failed", result["failed"])
    batch_span.finish(result["status"] == "Completed", (result.get("error") or {}).get("message"))
    agg = result.get("aggregation") or {}
    result["trace"] = batch_span.tracer.wire() + (agg.pop("trace", None) or [])


def _summary(total, failed):
    return "%d out of %d runs failed" % (failed, total) if failed else "All %d runs completed" % total


def batch(params, flow_dir, channel):
    run_id = params["runId"]
    t0 = time.monotonic()
    redact = capture.Redactor(conn_mod.secrets_of(params.get("connections")) + prompty.secrets(params))
    hub = capture.Hub(channel, run_id, LINE_OUTPUT_CAP, redact, log_cap=LINE_OUTPUT_CAP)
    hub.install()
    result = {"status": "Completed", "total": 0, "completed": 0, "failed": 0, "aggregation": None}
    metrics.reset()
    metrics.follow_real_package()
    batch_span = None
    try:
        executor = run_mod.make_executor(params, flow_dir, hub, emit_events=False)
        if executor.variants:
            result["variants"] = executor.variants
        if executor.trace:
            # one trace for the batch: its root span here, each line's root span (made in a worker) under it
            tracer = tracing.Tracer(redact)
            batch_span = tracer.start("batch", "flow", None, {"span_type": "Flow", "flowsession.run_id": run_id})
            executor.trace_id, executor.trace_parent = tracer.trace_id, batch_span.span_id
            executor.trace_value_limit = tracing.BATCH_VALUE_LIMIT
        executor.prepare()
        given = params.get("aggregationLists")
        if isinstance(given, dict):
            # the lines ran elsewhere (other engines): only the aggregation nodes run here, over their values
            agg = Batch(dict(params, aggValues=False), executor, channel, run_id).aggregation(given)
            result["aggregation"] = agg
            if agg is not None and agg["status"] == "Failed":
                result["status"] = "Failed"
                result["error"] = agg["error"]
            result["summary"] = "Aggregation only"
            result["metrics"] = metrics.collected()
            result["durationMs"] = int((time.monotonic() - t0) * 1000)
            _finish_trace(result, batch_span)
            return to_jsonable(result)
        path = params.get("dataPath")
        if not isinstance(path, str) or not path:
            raise RuntimeFailure("InvalidParams", "batch needs dataPath, the .jsonl file to read.")
        path = os.path.join(flow_dir, path)
        if not os.path.isfile(path):
            raise RuntimeFailure("DataFileNotFound", "The input data file '%s' does not exist in the session."
                                 % params.get("dataPath"))
        base_path = params.get("baseRunPath")
        base = load_base_run(os.path.join(flow_dir, base_path)) if isinstance(base_path, str) and base_path else None
        check_mapping(params.get("columnMapping"), base is not None)
        runner = Batch(params, executor, channel, run_id, base)
        # image paths in the data are relative to the data file, as prompt flow reads them
        executor.image_base = os.path.dirname(path)
        runner.run(_lines(path, base))
        result.update(total=runner.total, failed=runner.failed, completed=runner.total - runner.failed)
        agg = runner.aggregation()
        result["aggregation"] = agg
        if agg is not None and agg["status"] == "Failed":
            result["status"] = "Failed"
            result["error"] = agg["error"]
    except RuntimeFailure as e:
        result["status"] = "Failed"
        result["error"] = e.to_dict()
    except UnicodeDecodeError as e:
        result["status"] = "Failed"
        result["error"] = {"code": "InvalidDataFile", "message": "The input data file is not UTF-8 text: %s" % e}
    finally:
        # a share copied in for this request only (a batch over several engines): gone with the request,
        # without another round trip to remove it
        # (an evaluation's share of its base run's lines goes with it)
        for data in (params.get("dataPath"), params.get("baseRunPath")):
            if params.get("removeData") and isinstance(data, str) and os.path.basename(data).startswith("flowsession-data-"):
                target = os.path.realpath(os.path.join(flow_dir, data))
                shares = (os.path.realpath("/tmp"), os.path.realpath(os.path.join(flow_dir, filesync.SCRATCH_FOLDER)))
                if os.path.dirname(target) in shares:
                    try:
                        os.remove(target)
                    except OSError:
                        pass
    result["summary"] = _summary(result["total"], result["failed"])
    result["metrics"] = metrics.collected()
    result["durationMs"] = int((time.monotonic() - t0) * 1000)
    _finish_trace(result, batch_span)
    return to_jsonable(result)
