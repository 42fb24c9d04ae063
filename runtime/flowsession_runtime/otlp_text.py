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


# the text of an attribute's key, and of short string values (a node's name, its type, a status), made once
_KEY_TEXTS = {}
_SHORT_VALUE_TEXTS = {}
_SHORT = 64
_MAX_SHORT_TEXTS = 4096


def _attribute(key, value):
    head = _KEY_TEXTS.get(key)
    if head is None:
        head = _KEY_TEXTS[key] = '{"key":%s,"value":' % _text(key)
    if type(value) is str:
        if len(value) > _SHORT:
            return head + '{"stringValue":' + _text(value) + "}}"
        text = _SHORT_VALUE_TEXTS.get(value)
        if text is None:
            if len(_SHORT_VALUE_TEXTS) >= _MAX_SHORT_TEXTS:
                _SHORT_VALUE_TEXTS.clear()
            text = _SHORT_VALUE_TEXTS[value] = '{"stringValue":%s}}' % _text(value)
        return head + text
    return head + _any_value(value) + "}"


def span_text(span):
    """One span (its wire form, tracing.Span.to_wire: ids in hex, times in digits) as an OTLP/JSON span object."""
    parent = span.get("parentSpanId")
    message = span.get("statusMessage")
    return ('{"traceId":"%s","spanId":"%s"%s,"name":%s,"kind":%s,"startTimeUnixNano":"%s","endTimeUnixNano":"%s",'
            '"attributes":[%s],"status":{"code":%s%s}}') % (
        span["traceId"], span["spanId"], ',"parentSpanId":"%s"' % parent if parent else "", _text(span["name"]),
        "3" if span["kind"] == "llm" else "1", span["start"], span["end"],
        ",".join([_attribute(k, v) for k, v in span["attributes"].items()]),
        _STATUS_CODES.get(span["status"], "0"), ',"message":' + _text(message) if message else "")


def _count(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0 else 0


def tokens(spans):
    """(input, output, total) tokens of the LLM spans, as the host's traceTotals counts them (shared/trace.ts)."""
    total_in = total_out = total = 0
    for span in spans:
        if span["kind"] != "llm":
            continue
        attrs = span["attributes"]
        i = _count(attrs.get("gen_ai.usage.input_tokens"))
        o = _count(attrs.get("gen_ai.usage.output_tokens"))
        total_in += i
        total_out += o
        total += _count(attrs.get("flowsession.usage.total_tokens")) or i + o
    return int(total_in), int(total_out), int(total)

