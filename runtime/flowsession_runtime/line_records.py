"""A batch line's own spans (its root and one per step) as a compact record, which the host writes as OTLP/JSON.

A batch of 10,000 lines of three nodes has 40,000 such spans: as span objects and OTLP text they cost the workers
more than the lines themselves. A record keeps only what differs from line to line: their clocks as offsets from the
line's start, each step's status and values, and the spans' ids when something inside the line needed one (else the
host draws them). What every line shares (a step's name, type, variant) goes to the host once, in the batch's
traceSteps event; a step's span id is the one after the root's at the step's index in that table (a line runs each
step at most once). Spans made inside a step (an LLM call, an @trace function) are tracing.Span objects as in a
single run, sent with the record as wire dicts.

The record, as protocol.ts's LineTraceRecord reads it:
  ["<Unix ns of the line's start>", <its end, ns after the start>,
   "<hex: the line's span id, then one per step; empty: the host draws them>", <ok>,
   [[<step index>, <start>, <end>, inputs (true: as the table names them), output(, "<status>"(, "<error type>",
     "<message>"))], ...]
   (, {"message": "<the line's error>", "inputs": value, "output": value (redacted; else the line's own),
       "spans": [<wire dicts>]})]
A step without a status completed (most do: each item of a record costs the worker its encoding). A step's inputs
are `true` when the table names where each comes from (a literal's JSON text, a flow input, a whole output of an
earlier step) and each is a value the host writes as JSON exactly as the runtime would, as the lineEnd's inputs and
the record's outputs carry it: the host then writes them from there.
A value is final text when it is a string (redacted and cut as tracing.value_text cuts); any other value is one the
host writes as JSON text exactly as the runtime would (see record_value), then cuts.
"""
import time

from . import tracing

# a JSON reader keeps an integer exactly up to here
_SAFE_INT = 2 ** 53 - 1
# a dict goes as it is when it is this small and holds only such values; anything else is made text at once
_PLAIN_ENTRIES = 16
_PLAIN_TEXT = 256


def _no_redaction(text):
    return text


def _plain(v):
    """A value whose JSON text the host writes exactly as the runtime does: an integer a JSON reader keeps, a short
    ASCII text, a bool, None."""
    c = v.__class__
    return (c is int and -_SAFE_INT <= v <= _SAFE_INT) or (c is str and len(v) <= _PLAIN_TEXT and v.isascii()) \
        or v is None or c is bool


def record_value(value, limit):
    """A value as a record carries it when nothing is to be redacted: as it is when the host writes its JSON text
    exactly as tracing.value_text would (None, a bool, an integer a JSON reader keeps, a small dict of those and of
    short ASCII texts), a text cut as value_text cuts it, else value_text's text."""
    cls = value.__class__
    if cls is str:
        return value if len(value) <= limit else tracing.value_text(value, _no_redaction, limit)
    if cls is int:
        if -_SAFE_INT <= value <= _SAFE_INT:
            return value
    elif cls is dict:
        if len(value) <= _PLAIN_ENTRIES:
            for k, v in value.items():
                if k.__class__ is not str or not k.isascii() or not _plain(v):
                    break
            else:
                return value
    elif value is None or cls is bool:
        return value
    return tracing.value_text(value, _no_redaction, limit)


def step_checks(sources):
    """For each step of the table, the inputs a line's record names instead of sending them when each of them holds
    a plain value (see plain_inputs): those the table says come from a flow input or a step (a literal's text is in the
    table); None for a step whose inputs the table does not name."""
    return tuple(None if entries is None else tuple(k for k, kind, _what in entries if kind != "value")
                 for entries in sources)


def plain_inputs(inputs, keys):
    """True when each of these inputs is _plain, as it comes in the lineEnd's inputs or as a step's output in the
    record. (No dict: a node may change one it was given after the step that returned it was recorded.)"""
    for k in keys:
        if not _plain(inputs[k]):
            return False
    return True


def values_for(redact):
    """What a line's values become in its record: with secrets to hide, always value_text's redacted text (a
    redactor that does not say what it hides may hide anything)."""
    if getattr(redact, "secrets", True):
        return lambda value, limit: tracing.value_text(value, redact, limit)
    return record_value


class StepParent:
    """A recorded step, or a recorded line's root, as the parent of the spans made inside it (an LLM call, an @trace
    function): made once per step (tracing.SharedAttributes.parent), it names the span of that step in whichever
    line its executor runs now."""
    __slots__ = ("owner", "slot")

    def __init__(self, owner, slot):
        self.owner = owner  # the executor (line_trace.LineTracing): its line_record is the line running now
        self.slot = slot  # the span's place in the line's ids: 0 the root, then 1 + the step's index

    @property
    def tracer(self):
        line = self.owner.line_record
        # (a thread of the user's that outlives its line traces into nothing)
        return line.tracer if line is not None else tracing.Tracer(_no_redaction)

    @property
    def span_id(self):
        line = self.owner.line_record
        return line.span_id(self.slot) if line is not None else tracing.new_id(8)


class LineRecord:
    """The record of one line: begun with its root, a step added as each ends, finished with the line."""
    __slots__ = ("redact", "value_limit", "trace_id", "ids", "slots", "start", "steps", "_tracer", "value", "sources")

    def __init__(self, redact, value, trace_id, value_limit, steps, sources=None):
        self.redact = redact
        self.value = value  # record_value, or (with secrets to hide) a redacted value_text: values_for(redact)
        self.value_limit = value_limit
        self.trace_id = trace_id
        self.ids = None  # drawn when a span made inside the line names its parent; else the host draws them
        self.slots = 1 + steps
        # step_checks of the table: whose inputs this record may name instead of sending (with nothing to hide)
        self.sources = sources if value is record_value else None
        self.steps = []
        self.start = time.time_ns()
        self._tracer = None

    def span_id(self, slot):
        ids = self.ids
        if ids is None:
            # the root's id and one per step of the table, in one draw
            ids = self.ids = tracing.new_id(8 * self.slots)
        return ids[16 * slot:16 * slot + 16]

    @property
    def tracer(self):
        """The tracer of the spans made inside the line's steps, made when the first is."""
        if self._tracer is None:
            self._tracer = tracing.Tracer(self.redact, self.trace_id, self.value_limit)
        return self._tracer

    def add_step(self, index, rec):
        """A step (of the table's `index`) ended with its record: start and end (Unix ns), status, inputs (the
        executor's own dict, which nothing changes after the call), output (when it completed), error."""
        status, value, start = rec["status"], self.value, self.start
        inputs = rec.get("inputs")
        if inputs is not None:
            keys = self.sources[index] if self.sources is not None else None
            inputs = True if keys is not None and plain_inputs(inputs, keys) else value(inputs, self.value_limit)
        if status == "Completed":
            output = rec["output"]
            cls = output.__class__
            if cls is dict:
                kept = value(output, self.value_limit)
                # a copy of a dict kept as it is: a later node that changes it does not change what this one returned
                output = dict(output) if kept is output else kept
            elif cls is not int or not -_SAFE_INT <= output <= _SAFE_INT or value is not record_value:
                output = value(output, self.value_limit)
            self.steps.append([index, rec["start_time"] - start, rec["end_time"] - start, inputs, output])
            return
        step = [index, rec["start_time"] - start, rec["end_time"] - start, inputs, None, status]
        err = rec.get("error")
        if err:
            message = err.get("message")
            step += [err.get("innerCode") or err.get("code"),
                     self.redact(str(message))[:tracing.VALUE_LIMIT] if message else None]
        self.steps.append(step)

    def finish(self, ok, message=None, inputs=None, outputs=None):
        """The record, the line's root span ended. The line's inputs and outputs go in only when secrets are to be
        hidden in them: else the host writes the line's own (its lineEnd's inputs and output)."""
        out = [str(self.start), time.time_ns() - self.start, self.ids or "", ok, self.steps]
        extra = {}
        if message:
            extra["message"] = self.redact(str(message))[:tracing.VALUE_LIMIT]
        value, limit = self.value, self.value_limit
        if value is not record_value:  # else nothing is to be hidden: the host writes the line's own as they are
            if inputs is not None:
                extra["inputs"] = value(inputs, limit)
            if outputs is not None:
                extra["output"] = value(outputs, limit)
        if self._tracer is not None:
            extra["spans"] = self._tracer.wire()
        if extra:
            out.append(extra)
        return out
