"""The per-line shortcuts of values: JSON text of a value, a record's times, flow inputs already of their type, inputs
without images, span value text. Each must give what the long way gives."""
import dataclasses
import json
import math
import re
import unittest

from flowsession_runtime import images, inputs, tracing, wire
from flowsession_runtime.clock import log_now, utc_now


class Image(bytes):
    """As prompt flow's Image: bytes with a mime type (and maybe the URL it came from)."""

    def __new__(cls, data, mime_type="image/png", source_url=None):
        image = super().__new__(cls, data)
        image._mime_type, image.source_url = mime_type, source_url
        return image


@dataclasses.dataclass
class Point:
    x: int
    y: float


def fresh_encoding(value):
    """What dumps gave before it kept its encoder: a new JSONEncoder per value, the sanitizing fallback."""
    try:
        return json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=wire._fallback,
                                separators=(",", ":")).encode(value)
    except (ValueError, TypeError):
        return json.dumps(wire._sanitize(json.loads(json.dumps(value, default=wire._fallback))), ensure_ascii=False,
                          default=wire._fallback, separators=(",", ":"))


VALUES = [None, True, False, 0, -7, 2 ** 70, 1.5, -0.0, 1e300, "", "plain", "é ✓ \u2028 \"quoted\"\n\t\x00",
          [], {}, [1, [2, [3, {"a": None}]]], {"x": 7}, {"k": "v", "n": [1.25, "two"], "d": {"e": {}}},
          (1, 2), {1: "int key", None: "none key", 2.5: "float key", True: "bool key"}, {3}, b"\xffbytes",
          Image(b"\x89PNG"), Image(b"x", "image/jpeg", "https://example.com/a.jpg"), Point(1, 2.5), float("nan"),
          {"inf": float("inf"), "list": [float("-inf")]}, object]


class DumpsTest(unittest.TestCase):
    def test_the_kept_encoder_is_used_and_writes_what_a_fresh_one_writes(self):
        self.assertIsNotNone(wire._REUSABLE, "this Python has the C encoder")
        for value in VALUES:
            with self.subTest(value=repr(value)):
                self.assertEqual(wire.dumps(value), fresh_encoding(value))

    def test_a_cycle_is_still_refused_as_before(self):
        looped = {"a": []}
        looped["a"].append(looped)
        with self.assertRaisesRegex(ValueError, "Circular reference"):
            wire.dumps(looped)
        self.assertEqual(wire.dumps({"after": "a cycle"}), '{"after":"a cycle"}')  # the encoder is still sound

    def test_span_value_text(self):
        redact = lambda text: text.replace("secret", "***")  # noqa: E731
        for value in (7, -3, True, None, 2.5, "a secret", {"k": "secret"}, [1, "x"], 10 ** 30):
            with self.subTest(value=value):
                expected = redact(value if isinstance(value, str) else fresh_encoding(value))
                self.assertEqual(tracing.value_text(value, redact), expected)
        self.assertEqual(tracing.value_text("x" * 10, redact, 4), "xxxx" + wire.TRUNCATED)
        self.assertEqual(tracing.value_text(123456, redact, 4), "1234" + wire.TRUNCATED)

    def test_span_ids_are_hex_of_their_length(self):
        for nbytes in (8, 16):
            ids = {tracing.new_id(nbytes) for _ in range(200)}
            self.assertEqual(len(ids), 200)
            for i in ids:
                self.assertRegex(i, "^[0-9a-f]{%d}$" % (2 * nbytes))


class ClockTest(unittest.TestCase):
    def test_times_as_prompt_flow_writes_them_and_in_order(self):
        times = [utc_now() for _ in range(2000)]
        for t in times:
            self.assertRegex(t, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        self.assertEqual(times, sorted(times))
        self.assertRegex(log_now(), r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}$")

    def test_the_fraction_belongs_to_the_second(self):
        import time
        before = time.time()
        text = utc_now()
        after = time.time()
        seconds = time.mktime(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        stamp = seconds + int(text[20:26]) / 1e6
        self.assertLessEqual(math.floor(before * 1e6) / 1e6, stamp)
        self.assertLessEqual(stamp, after)


class FlowInputsTest(unittest.TestCase):
    DEFS = {"i": {"type": "int"}, "d": {"type": "double"}, "b": {"type": "bool"}, "s": {"type": "string"},
            "l": {"type": "list"}, "o": {"type": "object"}}

    def test_values_of_their_type_are_kept_and_others_parsed(self):
        given = {"i": 3, "d": 1.5, "b": False, "s": "t", "l": [1], "o": {"k": 1}, "extra": "kept"}
        self.assertEqual(inputs.resolve_flow_inputs(self.DEFS, given), given)
        parsed = inputs.resolve_flow_inputs(self.DEFS, {"i": True, "d": 2, "b": "TRUE", "s": 5, "l": "[2]",
                                                        "o": '{"k": 2}'})
        self.assertEqual(parsed, {"i": 1, "d": 2.0, "b": True, "s": "5", "l": [2], "o": {"k": 2}})
        self.assertIs(parsed["i"].__class__, int)  # a bool given for an int input becomes an int, as before
        self.assertIs(parsed["d"].__class__, float)
        self.assertEqual(inputs.resolve_flow_inputs({"o": {"type": "object"}}, {"o": "not json"}), {"o": "not json"})
        with self.assertRaises(wire.RuntimeFailure) as e:
            inputs.resolve_flow_inputs(self.DEFS, {"i": "one", "d": 1.0, "b": True, "s": "", "l": [], "o": {}}, 4)
        self.assertEqual(e.exception.code, "InputTypeError")

    def test_inputs_that_cannot_hold_images_are_not_looked_at(self):
        self.assertFalse(images.may_load({"x": {"type": "int"}, "s": {"type": "string"}, "n": None, "u": {}}))
        self.assertFalse(images.may_load(None))
        for typ in ("image", "list", "object"):
            self.assertTrue(images.may_load({"x": {"type": "int"}, "y": {"type": typ}}), typ)


if __name__ == "__main__":
    unittest.main()
