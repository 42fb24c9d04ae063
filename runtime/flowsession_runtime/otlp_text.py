"""A batch line's spans as OTLP/JSON text, the shape the host's toOtlp writes (src/core/runs/otlp.ts).

A large batch's spans go to its trace.json as this text, which the host copies without parsing it: tens of
thousands of spans parsed, converted and written again cost the host more than the lines themselves. The
workers encode their own lines' spans, so the encoding runs in parallel too.
"""
import math
from json.encoder import encode_basestring as _text  # as JSON.stringify: no \u escapes for non-ASCII

_STATUS_CODES = {"Unset": "0", "Ok": "1", "Error": "2"}


def _any_value(v):
    """An attribute value as OTLP's AnyValue, as otlp.ts anyValue: a whole number is an intValue."""
    if isinstance(v, bool):
        return '{"boolValue":true}' if v else '{"boolValue":false}'
    if isinstance(v, int):
        return '{"intValue":"%d"}' % v
    if isinstance(v, float):
        if not math.isfinite(v):
            return '{"doubleValue":null}'  # what JSON.stringify makes of it
        if v.is_integer():
            return '{"intValue":"%d"}' % v
        return '{"doubleValue":%r}' % v
    if isinstance(v, (list, tuple)):
        return '{"arrayValue":{"values":[%s]}}' % ",".join('{"stringValue":%s}' % _text(str(x)) for x in v)
    return '{"stringValue":%s}' % _text(v if isinstance(v, str) else str(v))


# the text of an attribute's key, made once
_KEY_TEXTS = {}


def _attribute(key, value):
    head = _KEY_TEXTS.get(key)
    if head is None:
        head = _KEY_TEXTS[key] = '{"key":%s,"value":' % _text(key)
    if type(value) is str:
        return head + '{"stringValue":' + _text(value) + "}}"
    return head + _any_value(value) + "}"


def _shared_text(shared):
    if shared.text is None:
        shared.text = ",".join([_attribute(k, v) for k, v in shared.items()])
    return shared.text


def span_text(span):
    """One span (a tracing.Span that ended) as an OTLP/JSON span object."""
    parent, message, shared = span.parent_id, span.message, span.shared
    attributes = ",".join([_attribute(k, v) for k, v in span.attributes.items()])
    if shared:
        attributes = _shared_text(shared) + "," + attributes if attributes else _shared_text(shared)
    return ('{"traceId":"%s","spanId":"%s"%s,"name":%s,"kind":%s,"startTimeUnixNano":"%d","endTimeUnixNano":"%d",'
            '"attributes":[%s],"status":{"code":%s%s}}') % (
        span.tracer.trace_id, span.span_id, ',"parentSpanId":"%s"' % parent if parent else "", _text(span.name),
        "3" if span.kind == "llm" else "1", span.start, span.end or span.start, attributes,
        _STATUS_CODES.get(span.status, "0"), ',"message":' + _text(message) if message else "")


def _count(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0 else 0


def tokens(spans):
    """(input, output, total) tokens of the LLM spans (tracing.Span), as the host's traceTotals counts them
    (shared/trace.ts)."""
    total_in = total_out = total = 0
    for span in spans:
        if span.kind != "llm":
            continue
        attrs = span.attributes
        i = _count(attrs.get("gen_ai.usage.input_tokens"))
        o = _count(attrs.get("gen_ai.usage.output_tokens"))
        total_in += i
        total_out += o
        total += _count(attrs.get("flowsession.usage.total_tokens")) or i + o
    return int(total_in), int(total_out), int(total)


class LineSpans:
    """A line's spans as the batch sends them: their OTLP/JSON texts joined by commas, how many, their LLM tokens."""
    __slots__ = ("text", "count", "tokens")

    def __init__(self, spans):
        self.text = ",".join([span_text(s) for s in spans])
        self.count = len(spans)
        self.tokens = tokens(spans)
