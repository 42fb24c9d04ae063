"""The trace of one line (or of a batch's aggregation) as an executor keeps it: a root span, then the steps' spans
under it. Shared by the DAG executor (a span per node) and the entry executor (a flex entry or a prompty: one step).
"""
from . import line_records, tracing


class LineTracing:
    """Mixed into an executor that has `hub` (the redactor) and runs lines; tracing is off unless `trace` is set."""

    def init_tracing(self, trace):
        # off unless the request asks; a batch sets the trace id and parent span its lines share
        self.trace = trace
        self.trace_id = None
        self.trace_parent = None
        self.trace_value_limit = tracing.VALUE_LIMIT
        self.tracer = None
        self.root_span = None
        # the line's record while a recorded line runs (the tracer then), else None
        self.line_record = None
        # a batch worker keeps a line's own spans as a record (line_records), not as span objects
        self.trace_as_records = False
        self.trace_step_count = 0  # steps a recorded line may run (span ids drawn at its start)
        self._record_values = None
        self._root_parent = None
        self._step_sources = None

    def trace_steps(self):
        """The steps a line may run, for the host to name their spans once (traceSteps): each one's span name, its
        attributes (a tracing.SharedAttributes that now knows its place in this list and its parent of spans) and
        where its inputs come from (trace_step_inputs)."""
        steps = self.trace_step_attributes()
        sources = self.trace_step_inputs() or [None] * len(steps)
        for i, (_name, attrs) in enumerate(steps):
            attrs.index, attrs.parent = i, line_records.StepParent(self, 1 + i)
        self.trace_step_count = len(steps)
        self._root_parent = line_records.StepParent(self, 0)
        self._step_sources = line_records.step_checks(sources)
        return [(name, attrs, source) for (name, attrs), source in zip(steps, sources)]

    def trace_step_attributes(self):
        """(span name, tracing.SharedAttributes) of each step a line may run."""
        return []

    def trace_step_inputs(self):
        """For each step of trace_step_attributes, where its inputs come from when the host can name them from what
        a line's record and lineEnd carry (line_records.step_checks), else None; None: no step's can be."""
        return None

    def begin_line_trace(self, run_id, index):
        """begin_trace for a line of a run (index None) or of a batch."""
        if self.trace and self.trace_as_records:
            # the host names the line's root span from its number
            values = self._record_values
            if values is None:
                values = self._record_values = line_records.values_for(self.hub.redact)
            self.tracer = self.line_record = line_records.LineRecord(
                self.hub.redact, values, self.trace_id, self.trace_value_limit, self.trace_step_count,
                self._step_sources)
            self.root_span = self._root_parent
            return self.root_span
        return self.begin_trace("flow" if index is None else "line %d" % index,
                                {"flowsession.run_id": run_id} if index is None else
                                {"flowsession.run_id": run_id, "flowsession.line_number": index})

    def begin_trace(self, name, attributes=None):
        """Starts the trace of a line (or of an aggregation): its root span; None when tracing is off. (A recorded line
        begins with begin_line_trace.)"""
        if not self.trace:
            self.tracer = self.root_span = self.line_record = None
            return None
        self.tracer = tracing.Tracer(self.hub.redact, self.trace_id, self.trace_value_limit)
        attrs = {"span_type": "Flow"}
        attrs.update(attributes or {})
        self.root_span = self.tracer.start(name, "flow", self.trace_parent, attrs)
        return self.root_span

    def end_trace(self, ok, message=None, inputs=None, outputs=None):
        """Ends the root span; the line's spans (wire dicts, or a line_records record), or None when tracing is off."""
        root, tracer = self.root_span, self.tracer
        self.tracer = self.root_span = self.line_record = None
        if root is None:
            return None
        if self.trace_as_records:
            return tracer.finish(ok, message, inputs, outputs)
        if inputs is not None:
            root.set("flowsession.inputs", tracing.value_text(inputs, self.hub.redact, tracer.value_limit))
        if outputs is not None:
            root.set("flowsession.output", tracing.value_text(outputs, self.hub.redact, tracer.value_limit))
        root.finish(ok, message)
        return tracer.wire()

    def _span_tracer(self):
        # a recorded line makes span objects only for what its record cannot hold
        return self.tracer.tracer if self.trace_as_records else self.tracer

    def start_step(self, name, attributes):
        """The span of one step of the line (a node, a flex entry) under its root, with `attributes` naming the step (a
        tracing.SharedAttributes, made once for every line: the span keeps them as they are); for a step of the
        traceSteps table in a recorded line, what stands for it (end_step_span records it); None when tracing is
        off."""
        if self.tracer is None:
            return None
        if self.trace_as_records and attributes.index is not None:
            return attributes.parent
        return self._span_tracer().start(name, "node", self.root_span.span_id if self.root_span else None, None,
                                         attributes)

    def end_step_span(self, span, rec):
        """Ends a step's span from its record: status, inputs, output (when it completed), error."""
        if span is None:
            return
        if span.__class__ is line_records.StepParent:
            self.line_record.add_step(span.slot - 1, rec)
            return
        # straight into the attributes: none of these values is None (what Span.set leaves out)
        attributes, status = span.attributes, rec["status"]
        attributes["flowsession.status"] = status
        redact, limit = self.hub.redact, span.tracer.value_limit
        if rec.get("inputs") is not None:
            attributes["flowsession.inputs"] = tracing.value_text(rec["inputs"], redact, limit)
        if status == "Completed":
            attributes["flowsession.output"] = tracing.value_text(rec.get("output"), redact, limit)
        err = rec.get("error")
        if err:
            span.set("error.type", err.get("innerCode") or err.get("code"))
        span.finish(rec["status"] != "Failed", err.get("message") if err else None)
