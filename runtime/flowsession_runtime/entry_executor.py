"""One callable entry run as a flow: a flex flow's function or class instance, or a prompty.

It offers what run.py and batch.py ask of the DAG executor (`prepare`, `run_line`, `input_defs`, `agg_nodes`,
`run_aggregation`), so a batch forks its workers after the entry is loaded (a class is made once, from its init
values) and `__aggregate__` runs once in the coordinator.
"""
import asyncio
import dataclasses
import inspect
import time

from . import images, inputs as inputs_mod, metrics, prompty as prompty_mod, streaming
from . import tracing
from .executor import emit_node_end, tool_error
from .line_trace import LineTracing
from .wire import RuntimeFailure, to_jsonable

AGGREGATE = "__aggregate__"


def output_dict(value):
    """A line's outputs as prompt flow records them: a dict stays, a dataclass becomes one, anything else is `output`."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return to_jsonable(value)
    return {"output": to_jsonable(value)}


class _AttrDict(dict):
    """An aggregated line result: read by key or, one level deep, as an attribute (prompt flow's AttrDict)."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key)


class EntryExecutor(LineTracing):
    """One callable (a flex entry's function or class instance, or a prompty) run line by line as the DAG executor
    runs its nodes: one traced step per line, its prints captured, its events sent."""

    def __init__(self, name, flow_dir, hub, input_defs, kind="flex", trace=False):
        self.name = name
        # flex or prompty: what the entry's span says it is
        self.kind = kind
        self.init_tracing(trace)
        self.flow_dir = flow_dir
        self.hub = hub
        self.emit_events = True
        self.input_defs = input_defs
        self.variants = {}
        self.func = None
        self.aggregate = None
        self.agg_nodes = []
        # image paths of a run's inputs are relative to the flow folder, a batch's to its data file (batch.py)
        self.image_base = flow_dir
        self._step_attrs = {}  # step name -> its span's tracing.SharedAttributes

    def prepare(self):
        pass

    def _step_attributes(self, name):
        attrs = self._step_attrs.get(name)
        if attrs is None:
            attrs = self._step_attrs[name] = tracing.SharedAttributes({
                "flowsession.node.name": name, "span_type": "Prompty" if self.kind == "prompty" else "Function",
                "flowsession.node.type": self.kind})
        return attrs

    def trace_step_attributes(self):
        return [(self.name, self._step_attributes(self.name))]

    def _coerce(self, given, index):
        typed = {k: v for k, v in self.input_defs.items() if (v or {}).get("type") in inputs_mod.VALUE_TYPES}
        resolved = dict(given or {})
        for k, spec in self.input_defs.items():
            if k not in resolved and "default" in (spec or {}):
                resolved[k] = spec["default"]
        missing = [k for k in self.input_defs if k not in resolved]
        if missing:
            line_info = "in input data" if index is None else "in line %d of input data" % index
            raise RuntimeFailure("InputNotFound", (
                "The input for flow is incorrect. The value for flow input '%s' is not provided %s. Please review "
                "your input data or remove this input in your flow if it's no longer needed.") % (missing[0],
                                                                                                   line_info))
        for k, spec in typed.items():
            if resolved.get(k) is not None:
                resolved[k] = inputs_mod.parse_flow_input(k, resolved[k], spec["type"], index)
        return resolved

    def _kwargs(self, inputs):
        try:
            params = inspect.signature(self.func).parameters
        except (TypeError, ValueError):
            return dict(inputs)
        if any(p.kind == p.VAR_KEYWORD for p in params.values()):
            return dict(inputs)
        return {k: v for k, v in inputs.items() if k in params}

    def _call(self, inputs, run_id, emit):
        result = self.func(**self._kwargs(inputs))
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
        if streaming.is_stream(result):
            # the entry's output is the flow's one output, `output`: its chunks stream as a DAG node's do
            result = streaming.consume(result, streaming.emitter(self.hub, run_id, ["output"]) if emit else None)
        return result

    def _error(self, e):
        err = tool_error(self.name, e, self.hub.redact, self.flow_dir)
        if isinstance(e, prompty_mod.MissingRequiredInputError):
            err["code"] = "MissingRequiredInputError"
        return err

    def _record(self, name, run_id, inputs, call):
        """Runs `call` as one traced step (its prints captured, its start and end sent as node events)."""
        t0 = time.time_ns()
        span = self.start_step(name, self._step_attributes(name))
        previous_span = tracing.enter(span)
        cap = self.hub.begin(name, self.emit_events)
        if self.emit_events:
            self.hub.channel.event("nodeStart", runId=run_id, node=name)
        rec = {"node": name, "status": "Completed", "inputs": inputs, "output": None, "error": None}
        try:
            rec["output"] = call()
        except Exception as e:
            rec["status"], rec["error"] = "Failed", self._error(e)
        finally:
            self.hub.end(cap)
            tracing.leave(previous_span)
        t1 = time.time_ns()
        rec["durationMs"] = (t1 - t0) // 1000000
        rec["start_time"], rec["end_time"] = t0, t1  # Unix nanoseconds, as the DAG executor's records
        if span is not None:
            self.end_step_span(span, dict(rec, output=to_jsonable(rec["output"])))
        rec["logs"] = {"stdout": cap.text("stdout"), "stderr": cap.text("stderr")}
        if self.emit_events:
            emit_node_end(self.hub.channel, run_id, dict(rec, output=to_jsonable(rec["output"])))
        return rec

    def run_line(self, given_inputs, run_id, index=None, with_aggregation=False):
        t0 = time.time_ns()
        result = {"status": "Completed", "outputs": None, "error": None, "inputs": given_inputs, "records": [],
                  "start_time": t0}
        self.begin_line_trace(run_id, index)
        try:
            inputs = images.load_flow_inputs(self.input_defs, self._coerce(given_inputs, index), self.image_base)
            result["inputs"] = inputs
            rec = self._record(self.name, run_id, inputs, lambda: self._call(inputs, run_id, self.emit_events))
            result["records"] = [rec]
            if rec["status"] != "Completed":
                result["status"], result["error"] = "Failed", rec["error"]
            else:
                raw = rec["output"]
                rec["output"] = to_jsonable(raw)
                result["outputs"] = output_dict(raw)
                if self.agg_nodes:
                    value = dataclasses.asdict(raw) if dataclasses.is_dataclass(raw) else raw
                    result["agg"] = {AGGREGATE: {"results": to_jsonable(value)}}
        except RuntimeFailure as e:
            result["status"], result["error"] = "Failed", e.to_dict()
        result["end_time"] = t1 = time.time_ns()
        result["durationMs"] = (t1 - t0) // 1000000
        error = result.get("error")
        trace = self.end_trace(result["status"] == "Completed", error.get("message") if error else None,
                               result.get("inputs"), result.get("outputs"))
        if trace is not None:
            result["trace"] = trace
        return result

    def run_aggregation(self, lists, run_id):
        """`__aggregate__(results)` once over the lines' results in line order; a dict it returns is the metrics."""
        results = [_AttrDict(r) if isinstance(r, dict) else r for r in (lists.get(AGGREGATE) or {}).get("results", [])]

        def aggregate():
            value = self.aggregate(results)
            if inspect.iscoroutine(value):
                value = asyncio.run(value)
            if isinstance(value, dict):
                for k, v in value.items():
                    metrics.record(k, v)
            return to_jsonable(value)

        rec = self._record(AGGREGATE, run_id, {"results": to_jsonable(results)}, aggregate)
        return [rec], (rec if rec["status"] == "Failed" else None)
