"""Spans of a run: one per flow line, node and LLM call, kept in memory and returned with the result.

The host turns them into OpenTelemetry's OTLP/JSON (trace.json, the OTLP export); here they stay plain so
that a span costs a dict and two clocks. Times are Unix nanoseconds sent as strings (JSON numbers lose them).
Every text that reaches a span passes the run's redactor, so connection secrets never appear in one.
"""
import contextvars
import os
import random
import threading
import time
import urllib.parse

from .wire import TRUNCATED, dumps

# characters of one attribute's text (inputs, output); a span is small whatever a node returns
VALUE_LIMIT = 4096
# a batch keeps every line's spans until it ends: its values are cut shorter
BATCH_VALUE_LIMIT = 1024
# spans of one line: a node looping over an LLM call cannot grow a line's trace without bound
MAX_SPANS = 1000

# the span code runs under now (a node, an @trace function); a context variable, so that the tasks of an async
# entry each see their own, and a thread (a node run concurrently) starts with none
CURRENT = contextvars.ContextVar("flowsession_span", default=None)


def _is_true(value):
    return str(value).strip().lower() == "true"


# prompt flow's switch in the session's environment (an image's ENV): read once, in the runtime's parent process
_SESSION_DISABLED = _is_true(os.environ.get("PF_DISABLE_TRACING", ""))


def disabled_for(flow):
    """prompt flow's switch, PF_DISABLE_TRACING=true: as the flow's environment_variables set it, else as the
    session's environment does. No spans at all then."""
    env = flow.get("environment_variables") if isinstance(flow, dict) else None
    if isinstance(env, dict) and "PF_DISABLE_TRACING" in env:
        return _is_true(env["PF_DISABLE_TRACING"])
    return _SESSION_DISABLED


def new_id(nbytes):
    # as OpenTelemetry's own id generator: random bits, not a system call per span (a batch line makes several);
    # the random module reseeds in every forked child, so workers never share ids
    return random.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()  # 2 * nbytes hex digits, zeros kept


def value_text(value, redact, limit=VALUE_LIMIT):
    """A value as JSON text (a string as itself), redacted, then cut to `limit` characters (in that order: a cut
    through a secret would leave a prefix the redactor no longer recognises)."""
    cls = value.__class__
    if cls is str or isinstance(value, str):
        text = redact(value)
    else:
        # JSON writes an int as int.__repr__ does (a bool is no int here: its class is bool)
        text = redact(int.__repr__(value) if cls is int else dumps(value))
    if len(text) > limit:
        text = text[:limit] + TRUNCATED
    return text


class SharedAttributes(dict):
    """Attributes every span of one step has (a node's name and type, made once per run): a span keeps them by
    reference, never changed; `index` is the step's place in a batch's traceSteps table, which a line's record
    names instead, and `parent` what spans made inside the step have as their parent then (line_records)."""
    __slots__ = ("index", "parent")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.index = None
        self.parent = None


class Span:
    __slots__ = ("tracer", "span_id", "parent_id", "name", "kind", "start", "end", "status", "message", "attributes",
                 "shared")

    def __init__(self, tracer, name, kind, parent_id, attributes, shared=None):
        self.tracer = tracer
        self.span_id = new_id(8)
        self.parent_id = parent_id
        self.name = name
        self.kind = kind
        self.start = time.time_ns()
        self.end = None
        self.status = "Unset"
        self.message = None
        self.attributes = dict(attributes) if attributes else {}
        self.shared = shared  # SharedAttributes, first in the span's attributes

    def set(self, key, value):
        if value is not None:
            self.attributes[key] = value

    def finish(self, ok=True, message=None):
        self.end = time.time_ns()
        self.status = "Ok" if ok else "Error"
        if message:
            self.message = self.tracer.redact(str(message))[:VALUE_LIMIT]
        self.tracer.add(self)

    def to_wire(self):
        out = {"traceId": self.tracer.trace_id, "spanId": self.span_id, "name": self.name, "kind": self.kind,
               "start": str(self.start), "end": str(self.end or self.start), "status": self.status,
               "attributes": {**self.shared, **self.attributes} if self.shared else self.attributes}
        if self.parent_id:
            out["parentSpanId"] = self.parent_id
        if self.message:
            out["statusMessage"] = self.message
        return out


class Tracer:
    """The spans of one line (or of a batch's aggregation), under one trace id."""

    def __init__(self, redact, trace_id=None, value_limit=VALUE_LIMIT):
        self.trace_id = trace_id or new_id(16)
        self.redact = redact
        self.value_limit = value_limit
        self.spans = []
        self.dropped = 0
        self.lock = threading.Lock()

    def start(self, name, kind, parent_id=None, attributes=None, shared=None):
        return Span(self, name, kind, parent_id, attributes, shared)

    def add(self, span):
        with self.lock:
            if len(self.spans) < MAX_SPANS:
                self.spans.append(span)
            else:
                self.dropped += 1

    def wire(self):
        with self.lock:
            return [s.to_wire() for s in self.spans]


def enter(span):
    """Makes `span` the current one (the node an LLM call belongs to); returns the previous."""
    previous = CURRENT.get()
    CURRENT.set(span)
    return previous


def leave(previous):
    CURRENT.set(previous)


def current():
    return CURRENT.get()


# -- LLM calls ----------------------------------------------------------------------------------------
_OPERATIONS = (("chat/completions", "chat"), ("embeddings", "embeddings"), ("completions", "text_completion"))


def _operation(url):
    path = urllib.parse.urlsplit(url).path
    for suffix, name in _OPERATIONS:
        if path.endswith(suffix):
            return name
    return "chat"


def _choice_text(choice):
    delta = choice.get("delta")
    text = delta.get("content") if isinstance(delta, dict) else choice.get("text")
    return text if isinstance(text, str) else None


def _chunk_text(chunk):
    return any(_choice_text(c) for c in chunk.get("choices") or [] if isinstance(c, dict))


class LLMCall:
    """The span of one OpenAI API request, with OpenTelemetry's GenAI attributes; a no-op outside a traced node."""

    def __init__(self, url, body, headers):
        parent = current()
        self.span = None
        self.first_token = None
        self.streamed = {}
        self.streamed_text = []
        self.streamed_chars = 0
        if parent is None:
            return
        # header names only: a header's value (the key) is never read here
        azure = any(str(k).lower() == "api-key" for k in headers) or "/openai/deployments/" in url
        op = _operation(url)
        model = body.get("model")
        if azure and not model:
            # an Azure OpenAI request names its deployment in the path: /openai/deployments/<name>/...
            parts = urllib.parse.urlsplit(url).path.split("/")
            if "deployments" in parts and parts.index("deployments") + 1 < len(parts):
                model = urllib.parse.unquote(parts[parts.index("deployments") + 1])
        where = urllib.parse.urlsplit(url)
        # gen_ai.system as the conventions named it first, gen_ai.provider.name as they name it now
        attrs = {"span_type": "LLM", "gen_ai.system": "az.ai.openai" if azure else "openai",
                 "gen_ai.provider.name": "azure.ai.openai" if azure else "openai",
                 "gen_ai.operation.name": op, "server.address": where.hostname or ""}
        if where.port:
            attrs["server.port"] = where.port
        if model:
            attrs["gen_ai.request.model"] = str(model)
        for key, attr in (("temperature", "gen_ai.request.temperature"), ("top_p", "gen_ai.request.top_p"),
                          ("max_tokens", "gen_ai.request.max_tokens")):
            if isinstance(body.get(key), (int, float)) and not isinstance(body.get(key), bool):
                attrs[attr] = body[key]
        if body.get("stream") is True:
            attrs["flowsession.stream"] = True
        tracer = parent.tracer
        request = {k: body[k] for k in ("messages", "prompt", "input") if k in body}
        attrs["flowsession.inputs"] = value_text(request, tracer.redact, tracer.value_limit)
        self.span = tracer.start("%s %s" % (op, model) if model else op, "llm", parent.span_id, attrs)

    def _response(self, response):
        """The response's model, id and token usage on the span (a whole answer, or what a stream carried)."""
        span = self.span
        span.set("gen_ai.response.model", response.get("model") if isinstance(response.get("model"), str) else None)
        span.set("gen_ai.response.id", response.get("id") if isinstance(response.get("id"), str) else None)
        usage = response.get("usage") if isinstance(response.get("usage"), dict) else {}
        for key, attr in (("prompt_tokens", "gen_ai.usage.input_tokens"),
                          ("completion_tokens", "gen_ai.usage.output_tokens"),
                          ("total_tokens", "flowsession.usage.total_tokens")):
            if isinstance(usage.get(key), int) and not isinstance(usage.get(key), bool):
                span.set(attr, usage[key])

    def done(self, response):
        if self.span is None or self.span.end is not None:
            return
        span = self.span
        if isinstance(response, dict):
            self._response(response)
            choices = response.get("choices")
            if isinstance(choices, list):
                reasons = [c.get("finish_reason") for c in choices if isinstance(c, dict) and c.get("finish_reason")]
                if reasons:
                    span.set("gen_ai.response.finish_reasons", [str(r) for r in reasons])
                span.set("flowsession.output", value_text(
                    [c.get("message", c.get("text")) for c in choices if isinstance(c, dict)], span.tracer.redact,
                    span.tracer.value_limit))
        span.finish(True)
        span.set("flowsession.latency_ms", int((span.end - span.start) / 1e6))

    # -- a streamed answer (`stream: true`): chunks observed as the caller reads them, the span ended by the last
    def chunk(self, chunk):
        """One parsed chunk of a streamed answer (a `chat.completion.chunk` or `text_completion` dict)."""
        span = self.span
        if span is None or not isinstance(chunk, dict):
            return
        if self.first_token is None and _chunk_text(chunk):
            self.first_token = time.time_ns()
        if isinstance(chunk.get("model"), str) and chunk["model"]:
            self.streamed["model"] = chunk["model"]
        if isinstance(chunk.get("id"), str):
            self.streamed["id"] = chunk["id"]
        if isinstance(chunk.get("usage"), dict):
            self.streamed["usage"] = chunk["usage"]
        for c in chunk.get("choices") or []:
            if not isinstance(c, dict):
                continue
            reasons = self.streamed.setdefault("reasons", [])
            if c.get("finish_reason") and len(reasons) < 16:  # one per choice; a stream cannot grow the list
                reasons.append(str(c["finish_reason"])[:64])
            text = _choice_text(c)
            if text and c.get("index", 0) == 0 and self.streamed_chars <= span.tracer.value_limit:
                self.streamed_text.append(text)
                self.streamed_chars += len(text)

    def stream_done(self, complete=True):
        """Ends the span of a streamed answer: at its last chunk, or when the reader stopped early (`complete`
        False: what was read so far is recorded)."""
        span = self.span
        if span is None or span.end is not None:
            return
        got = self.streamed
        response = {"model": got.get("model"), "id": got.get("id"), "usage": got.get("usage")}
        done_text = "".join(self.streamed_text)
        span.set("flowsession.output", value_text(done_text, span.tracer.redact, span.tracer.value_limit))
        span.set("gen_ai.response.finish_reasons", got.get("reasons") or None)
        if self.first_token is not None:
            span.set("flowsession.time_to_first_token_ms", int((self.first_token - span.start) / 1e6))
        if not complete:
            span.set("flowsession.stream.incomplete", True)
        self._response(response)
        span.finish(True)
        span.set("flowsession.latency_ms", int((span.end - span.start) / 1e6))

    def failed(self, error):
        if self.span is None or self.span.end is not None:
            return
        self.span.set("error.type", type(error).__name__)
        self.span.finish(False, error)
        self.span.set("flowsession.latency_ms", int((self.span.end - self.span.start) / 1e6))


def warm_up(rounds=16):
    """Runs the span code paths a few times (in the runtime's parent process, before any fork)."""
    for _ in range(rounds):
        tracer = Tracer(lambda text: text)
        root = tracer.start("warm-up", "flow", None, {"span_type": "Flow"})
        previous = enter(root)
        span = tracer.start("node", "node", root.span_id, {"flowsession.node.name": "node"})
        span.set("flowsession.inputs", value_text({"x": [1, "two"]}, tracer.redact))
        span.set("flowsession.output", value_text("text", tracer.redact))
        span.finish(True)
        leave(previous)
        root.finish(True)
        tracer.wire()
