"""JSON encoding shared by the server and its children, plus the runtime's error type."""
import base64
import json
import math

PROTOCOL_VERSION = 1

# Events carry user output; a tool that returns or prints megabytes must not produce a line the
# client cannot handle, so every event is held under this size.
MAX_EVENT_BYTES = 256 * 1024
TRUNCATED = "[truncated]"


class RuntimeFailure(Exception):
    """An error with a prompt-flow-style code, reported to the client instead of a stack."""

    def __init__(self, code, message, detail=None, node=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail
        self.node = node

    def to_dict(self):
        d = {"code": self.code, "message": self.message}
        if self.node is not None:
            d["node"] = self.node
        if self.detail:
            d["detail"] = self.detail
        return d


def _fallback(o):
    # Tool outputs may be anything; prompt flow serialises unknown objects by their dict or str.
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    if isinstance(o, bytes) and hasattr(o, "_mime_type"):
        # prompt flow's Image (installed or shim): by its URL when it came from one, else its bytes; the client
        # stores the bytes as a file of the run and refers to it as {"data:<mime>;path": file}
        if getattr(o, "source_url", None):
            return {"data:%s;url" % o._mime_type: o.source_url}
        return {"data:%s;base64" % o._mime_type: base64.b64encode(o).decode("ascii")}
    if isinstance(o, bytes):
        return o.decode("utf-8", "replace")
    if hasattr(o, "__dataclass_fields__"):
        import dataclasses
        return dataclasses.asdict(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    return str(o)


def _sanitize(o):
    # JSON has no NaN/Infinity; JavaScript's JSON.parse rejects them, so send them as strings.
    if isinstance(o, float) and not math.isfinite(o):
        return str(o)
    if isinstance(o, dict):
        return {str(k): _sanitize(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_sanitize(v) for v in o]
    return o


# one encoder for every message: json.dumps with these options would build a new one per call (a batch line makes
# several: its spans' values, its result)
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_fallback, separators=(",", ":"))


def _reusable_encoder():
    """The C encoder _ENCODER makes anew for every value (with the dict it looks for cycles in), made once without
    it: most of the cost of encoding a small value (a span's attribute, a batch line's result) is making it. None
    without the C encoder, or if it does not encode as _ENCODER does."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    try:
        encode = make(None, _fallback, json.encoder.encode_basestring, None, ":", ",", False, False, False)
        sample = {"a": [1, 2.5, "é\n\"", None, True, {1: b"x"}], "b": {"c": ""}, "d": "\u2028"}
        if "".join(encode(sample, 0)) != _ENCODER.encode(sample):
            return None
    except Exception:
        return None
    return encode


_REUSABLE = _reusable_encoder()


def dumps(obj):
    try:
        if _REUSABLE is not None:
            try:
                return "".join(_REUSABLE(obj, 0))
            except RecursionError:
                pass  # a cycle (this encoder does not look for them) or a very deep value: _ENCODER says which
        return _ENCODER.encode(obj)
    except (ValueError, TypeError):
        return json.dumps(_sanitize(json.loads(json.dumps(obj, default=_fallback))), ensure_ascii=False,
                          default=_fallback, separators=(",", ":"))


def to_jsonable(obj):
    """A plain JSON value for obj, so results can be compared and embedded safely."""
    return json.loads(dumps(obj))


def cap_text(text, limit):
    if text is None or len(text) <= limit:
        return text
    return text[:limit] + "\n" + TRUNCATED


def capped_value(value, limit=MAX_EVENT_BYTES // 2):
    """(value, truncated): value itself when its JSON fits in limit bytes, else a short text preview."""
    s = dumps(value)
    if len(s) <= limit:
        return value, False
    return s[: limit // 2] + TRUNCATED, True
