"""The trace of one line (or of a batch's aggregation) as an executor keeps it: a root span, then the steps' spans
under it. Shared by the DAG executor (a span per node) and the entry executor (a flex entry or a prompty: one step).
"""
from . import otlp_text, tracing


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
        # a batch worker sends a line's spans as OTLP/JSON text (otlp_text.LineSpans), not as objects
        self.trace_as_text = False

    def begin_trace(self, name, attributes=None):
        """Starts the trace of a line (or of an aggregation): its root span; None when tracing is off."""
        if not self.trace:
            self.tracer = self.root_span = None
            return None
        self.tracer = tracing.Tracer(self.hub.redact, self.trace_id, self.trace_value_limit)
        attrs = {"span_type": "Flow"}
        attrs.update(attributes or {})
        self.root_span = self.tracer.start(name, "flow", self.trace_parent, attrs)
        return self.root_span

    def end_trace(self, ok, message=None, inputs=None, outputs=None):
        """Ends the root span; the line's spans (wire dicts, or otlp_text.LineSpans when trace_as_text), or None when
        tracing is off."""
        root, tracer = self.root_span, self.tracer
        self.tracer = self.root_span = None
        if root is None:
            return None
        if inputs is not None:
            root.set("flowsession.inputs", tracing.value_text(inputs, self.hub.redact, tracer.value_limit))
        if outputs is not None:
            root.set("flowsession.output", tracing.value_text(outputs, self.hub.redact, tracer.value_limit))
        root.finish(ok, message)
        if self.trace_as_text:
            with tracer.lock:
                return otlp_text.LineSpans(tracer.spans)
        return tracer.wire()

    def step_span(self, name, attributes):
        """The span of one step of the line (a node, a flex entry) under its root; None when tracing is off."""
        if self.tracer is None:
            return None
        attrs = {"flowsession.node.name": name}
        attrs.update(attributes)
        return self.tracer.start(name, "node", self.root_span.span_id if self.root_span else None, attrs)

    def start_step(self, name, attributes):
        """step_span with `attributes` naming the step already (a node's tracing.SharedAttributes, made once for every
        line: the span keeps them as they are); None when tracing is off."""
        if self.tracer is None:
            return None
        return self.tracer.start(name, "node", self.root_span.span_id if self.root_span else None, None, attributes)

    def end_step_span(self, span, rec):
        """Ends a step's span from its record: status, inputs, output (when it completed), error."""
        if span is None:
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
