"""batch: lines of a .jsonl file run across N worker processes, streamed back in lineEnds events.

The coordinator (the request's child) loads the flow's tools once, then forks workers that inherit
them, as prompt flow's line processes do: each is long-lived and runs one line at a time, many lines
in all. The coordinator hands lines out as (index, offset, length) tasks in one pipe all workers read,
so a free worker takes the next line without waiting on the coordinator; the data is read lazily and
results streamed, so memory stays bounded for any number of lines. The lines that ended go to the host
gathered, one event about every FLUSH_SECONDS. A worker that crashes or exceeds the line timeout fails
only its line and is replaced. FLOWSESSION_PROFILE=<folder> writes cProfile stats of the coordinator
and each worker there.
"""
import itertools
import json
import os
import select
import selectors
import signal
import struct
import time

from . import (capture, connections as conn_mod, filesync, forking, llm, metrics, prompty, run as run_mod, templates,
               tracing)
from .column_mapping import check_mapping, load_base_run, map_inputs
from .executor import jsonable_record
from .wire import RuntimeFailure, dumps, to_jsonable

LINE_OUTPUT_CAP = 64 * 1024
MAX_WORKERS = 64
# most batch lines wait on a model or a service, not on the CPU: enough workers to keep those waits overlapped
# (workers are forked only as lines need them, so a short batch starts no more than it has lines)
DEFAULT_WORKERS = 16


def _profiled(name, fn, *args):
    """fn(*args), under cProfile when FLOWSESSION_PROFILE names a folder: <folder>/<name>-<pid>.prof (to find where a
    batch's time goes; pstats reads the files)."""
    folder = os.environ.get("FLOWSESSION_PROFILE")
    if not folder:
        return fn(*args)
    import cProfile
    prof = cProfile.Profile()
    try:
        return prof.runcall(fn, *args)
    finally:
        prof.dump_stats(os.path.join(folder, "%s-%d.prof" % (name, os.getpid())))


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
        # a recorded line's spans (traceRecords) under a name of their own: other batches send span lists as `trace`
        out["traceRecord" if executor.trace_as_records else "trace"] = line["trace"]
    if line["status"] == "Completed":
        out["output"] = line["outputs"]
        if line.get("agg"):
            out["agg"] = line["agg"]
    else:
        out["error"] = line["error"]
    return out


TASK = struct.Struct("<QQQ")  # a line handed to the workers: its index, its offset and length in the data file
# the coordinator gathers the lines that ended into one lineEnds event at most this often (progress stays live) ...
FLUSH_SECONDS = 0.025
# ... or sooner once this much is waiting (an event stays well below what a client holds as one message)
FLUSH_BYTES = 192 * 1024
# how often at most the coordinator reads the workers' results while lines wait in the pipe
PACE_SECONDS = 0.01
TASKS_PER_WRITE = select.PIPE_BUF // TASK.size
# a pipe this large holds a worker's results of several reads of the coordinator, so a fast worker does not wait on it
# (not larger: the kernel counts every pipe's size against the user's pipe-user-pages-soft, 64 MB, and 64 workers
# must stay well below it)
PIPE_BYTES = 256 * 1024


def _worker_main(task_fd, result_fd, data_fd, executor, mapping, run_id, base, keep_agg, records):
    """Takes lines from the task pipe all workers share until it is empty and closed, so a free worker never waits for
    the coordinator to hand it the next line. It says which line it takes (`S`) and what came of the one before
    (`R`) in one write as it starts the next, or as it finds none waiting: if it dies on a line, the coordinator
    knows which one, and a line's result is never held while another runs."""
    executor.trace_as_records = records
    # a line's result keeps no node records: what its nodes print is not kept
    executor.keep_node_output = False
    out = b""
    while True:
        try:
            task = os.read(task_fd, TASK.size)
        except BlockingIOError:
            if out:
                _write_all(result_fd, out)
                out = b""
            select.select([task_fd], [], [])
            continue
        if not task:
            if out:
                _write_all(result_fd, out)
            return  # every line is taken and the coordinator closed the pipe
        idx, offset, length = TASK.unpack(task)
        _write_all(result_fd, out + b"S %d %d\n" % (idx, time.monotonic_ns()))
        text = os.pread(data_fd, length, offset).decode("utf-8", "replace")
        out = _result_frame(_run_one(executor, mapping, run_id, idx, text, base), keep_agg)


def _result_frame(res, keep_agg):
    """`R <index> <failed 0|1> <bytes of aggregation values> <aggregation values><line>`: the line as the lineEnds
    event carries it (with its trace record, traceRecords), which the coordinator passes on without parsing it again
    (most of its work on a large batch); apart, the line's values for the aggregation nodes, which the coordinator
    keeps."""
    failed = 0 if res["status"] == "Completed" else 1
    agg = b""
    if res.get("agg") and not keep_agg:
        agg = dumps(res.pop("agg")).encode("utf-8")
    elif not keep_agg:
        res.pop("agg", None)
    return b"R %d %d %d " % (res["index"], failed, len(agg)) + agg + dumps(res).encode("utf-8") + b"\n"


class Worker:
    def __init__(self, task_fd, data_fd, executor, mapping, run_id, base, keep_agg, records):
        r_r, r_w = os.pipe()
        forking.grow_pipe(r_w, PIPE_BYTES)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                forking._close_inherited({task_fd, r_w, data_fd})
                _profiled("worker", _worker_main, task_fd, r_w, data_fd, executor, mapping, run_id, base, keep_agg,
                          records)
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            except BaseException:
                code = 70
            finally:
                os._exit(code)
        os.close(r_w)
        self.pid, self.result_fd = pid, r_r
        self.buf = b""
        self.current = None  # (index, started) of the line it runs

    def close(self, sig=None):
        try:
            os.close(self.result_fd)
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
    """(line number, offset, length) of each data line; with a base run, only the lines it has outputs for."""
    with open(path, "rb") as f:
        idx = offset = 0
        for raw in f:
            start, offset = offset, offset + len(raw)
            # a file that is not UTF-8 fails the batch, as prompt flow's reader does
            if raw.decode("utf-8").strip():
                if base is None or (base.get(idx) or {}).get("outputs") is not None:
                    yield idx, start, len(raw)
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
        # each line's own spans as a compact record with its lineEnd, their fixed parts sent once (traceSteps)
        self.records = bool(params.get("traceRecords"))
        self.sel = selectors.DefaultSelector()
        self.workers = []
        self.unfinished = set()  # lines handed to the task pipe that have not ended
        self.drained = False  # a worker found the task pipe empty and closed: a new one would have nothing to take
        self.out = []  # ended lines (JSON) not yet sent
        self.out_bytes = 0
        self.out_since = None
        self.event_head = b'{"event":"lineEnds","runId":' + dumps(run_id).encode("utf-8") + b',"lines":['

    # -- ended lines ------------------------------------------------------------------------
    def ended(self, idx, failed, payload):
        self.unfinished.discard(idx)
        self.total += 1
        self.failed += failed
        if self.out_since is None:
            self.out_since = time.monotonic()
        self.out.append(payload)
        self.out_bytes += len(payload)
        if self.out_bytes >= FLUSH_BYTES:
            self.flush()

    def flush(self):
        """The ended lines as one lineEnds event: one frame through the runtime and one message for the host."""
        if self.out:
            self.channel.raw_event(self.event_head + b",".join(self.out) + b"]}")
        self.out, self.out_bytes, self.out_since = [], 0, None

    def fail_line(self, idx, code, message):
        self.ended(idx, 1, dumps({"index": idx, "status": "Failed", "durationMs": 0,
                                  "error": {"code": code, "message": message}}).encode("utf-8"))

    def on_frame(self, w, frame):
        if frame[:1] == b"S":
            _s, idx, started = frame.split(b" ")
            w.current = (int(idx), int(started) / 1e9)
            return
        _r, idx, failed, agg_len, rest = frame.split(b" ", 4)
        w.current = None
        agg_len = int(agg_len)
        if agg_len:
            idx_n = int(idx)
            for node, values in json.loads(rest[:agg_len]).items():
                for k, v in values.items():
                    self.agg.setdefault(node, {}).setdefault(k, []).append((idx_n, v))
        self.ended(int(idx), failed == b"1", rest[agg_len:])

    # -- workers ----------------------------------------------------------------------------
    def spawn(self, task_fd, data_fd):
        w = Worker(task_fd, data_fd, self.executor, self.mapping, self.run_id, self.base, self.keep_agg, self.records)
        self.workers.append(w)
        self.sel.register(w.result_fd, selectors.EVENT_READ, w)
        return w

    def retire(self, w, sig=None):
        self.sel.unregister(w.result_fd)
        self.workers.remove(w)
        return w.close(sig)

    def read_worker(self, w):
        """Takes in what the worker wrote; retires it once its pipe closed (it ended, or died)."""
        data = os.read(w.result_fd, PIPE_BYTES)
        if data:
            # the frames split at once (taking them off the front one by one moved the rest each time)
            frames = (w.buf + data if w.buf else data).split(b"\n")
            w.buf = frames.pop()  # the start of a frame whose end has not come yet
            for frame in frames:
                self.on_frame(w, frame)
            return
        status = self.retire(w)
        if status == 0 and w.current is None:
            self.drained = True
        if w.current is not None:
            how, _c, _s = forking.describe_status(status)
            idx = w.current[0]
            self.fail_line(idx, "RuntimeCrashed", "The process running line %d ended unexpectedly (%s)." % (idx, how))

    def fill(self, task_w, pending, queued):
        """Hands lines to the task pipe until it is full: (what is queued for later, whether lines may remain)."""
        while True:
            if not queued:
                tasks = list(itertools.islice(pending, TASKS_PER_WRITE))
                if not tasks:
                    return b"", False
                self.unfinished.update(t[0] for t in tasks)
                queued = b"".join(TASK.pack(*t) for t in tasks)
            try:
                # whole tasks, at most PIPE_BUF bytes: written all at once or not at all, so a worker reads whole tasks
                n = os.write(task_w, queued[:TASKS_PER_WRITE * TASK.size])
            except BlockingIOError:
                return queued, True
            queued = queued[n:]

    def run(self, lines, data_path):
        data_fd = os.open(data_path, os.O_RDONLY)
        task_r, task_w = os.pipe()
        os.set_blocking(task_r, False)  # shared by the workers: one that finds it empty waits in select
        os.set_blocking(task_w, False)
        pending = iter(lines)
        queued, writing = b"", True
        self.sel.register(task_w, selectors.EVENT_WRITE, None)
        try:
            while True:
                if writing:
                    queued, writing = self.fill(task_w, pending, queued)
                    if not writing:
                        # every line is in the pipe: closed, a worker that finds it empty ends
                        self.sel.unregister(task_w)
                        os.close(task_w)
                        task_w = None
                # workers start as lines need them (a short batch starts no more than it has lines); one that crashed or
                # was killed is replaced while lines wait
                while not self.drained and len(self.workers) < min(self.n, len(self.unfinished)):
                    self.spawn(task_r, data_fd)
                if not self.workers:
                    # lines a worker took from the pipe and died before it said so: nobody can run them now
                    for idx in sorted(self.unfinished):
                        self.fail_line(idx, "RuntimeCrashed", "The process that took line %d ended unexpectedly." % idx)
                    break
                now = time.monotonic()
                busy = [w for w in self.workers if w.current is not None]
                wait = min([w.current[1] + self.line_timeout - now for w in busy] + [1.0])
                if self.out_since is not None:
                    wait = min(wait, self.out_since + FLUSH_SECONDS - now)
                woke = time.monotonic()
                read = False
                for key, _ in self.sel.select(max(0.0, wait)):
                    if key.data is not None:
                        self.read_worker(key.data)
                        read = True
                if read and len(self.unfinished) > len(self.workers):
                    # lines wait in the pipe, so no worker waits on this loop: reading about once per PACE_SECONDS,
                    # not at each line's end, spares the CPU the workers use (a fast line would wake it thousands
                    # of times a second); a batch's last lines are read as they end
                    time.sleep(max(0.0, woke + PACE_SECONDS - time.monotonic()))
                now = time.monotonic()
                for w in [w for w in self.workers if w.current is not None]:
                    if now - w.current[1] > self.line_timeout:
                        idx = w.current[0]
                        w.current = None
                        self.retire(w, signal.SIGKILL)
                        self.fail_line(idx, "LineExecutionTimeoutError", "Line %d execution timeout for exceeding %g "
                                       "seconds." % (idx, self.line_timeout))
                if self.out_since is not None and now - self.out_since >= FLUSH_SECONDS:
                    self.flush()
            self.flush()
        finally:
            for fd in (task_r, task_w, data_fd):
                if fd is not None:
                    os.close(fd)
            for w in list(self.workers):
                self.retire(w, signal.SIGKILL)

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


def _warm_up(executor):
    """What every worker's first line would otherwise do again, once per worker: compile the prompts, prepare the
    HTTP client of the llm nodes. Done before the fork, so a batch of many workers does not start with each paying
    it (32 workers paid about 300 ms of CPU on their first lines)."""
    tools = list(getattr(executor, "tools", {}).values())  # a flex flow's entry has no nodes
    for tool in tools:
        if tool.template is not None:
            templates.precompile(tool.template)
    if any(tool.kind == "llm" for tool in tools):
        llm.warm_up()


def _send_trace_steps(executor, channel, run_id):
    """What every recorded line's spans share, once, before any line runs (traceSteps): the trace and the parent
    span of the lines' roots, and each step's span name and attributes (and where its inputs come from, when that can
    be said), which a line's record names by index."""
    steps = []
    for name, attrs, sources in executor.trace_steps():
        steps.append({"name": name, "attributes": dict(attrs)})
        if sources is not None:
            steps[-1]["inputs"] = sources
    channel.event("traceSteps", runId=run_id, traceId=executor.trace_id, parentSpanId=executor.trace_parent,
                  steps=steps)


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
    # no flow.log for a batch: its lines keep no log (what they print goes with each line's result)
    hub = capture.Hub(channel, run_id, LINE_OUTPUT_CAP, redact, log_cap=0)
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
        if executor.trace and runner.records:
            _send_trace_steps(executor, channel, run_id)
        _warm_up(executor)
        # image paths in the data are relative to the data file, as prompt flow reads them
        executor.image_base = os.path.dirname(path)
        _profiled("coordinator", runner.run, _lines(path, base), path)
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
