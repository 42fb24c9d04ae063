import json
import unittest

from flowsession_runtime import otlp_text, tracing


def span(kind="node", status="Ok", message=None, parent=None, attributes=None, shared=None):
    tracer = tracing.Tracer(lambda text: text, "ab" * 16)
    s = tracer.start("n", kind, parent, attributes, shared)
    s.span_id, s.start, s.end, s.status, s.message = "cd" * 8, 1, 2, status, message
    return s


class OtlpTextTest(unittest.TestCase):
    def test_a_span_is_the_object_the_host_writes(self):
        text = otlp_text.span_text(span(
            parent="ef" * 8, kind="llm", status="Error", message='bad "quote" \\ é\n',
            attributes={"s": "x", "long": "y" * 100, "t": True, "f": False, "i": 3, "whole": 2.0, "d": 0.25,
                        "nan": float("nan"), "list": ["a", "b"], "name": 'q"é'}))
        self.assertEqual(json.loads(text), {
            "traceId": "ab" * 16, "spanId": "cd" * 8, "parentSpanId": "ef" * 8, "name": "n", "kind": 3,
            "startTimeUnixNano": "1", "endTimeUnixNano": "2",
            "attributes": [
                {"key": "s", "value": {"stringValue": "x"}}, {"key": "long", "value": {"stringValue": "y" * 100}},
                {"key": "t", "value": {"boolValue": True}}, {"key": "f", "value": {"boolValue": False}},
                {"key": "i", "value": {"intValue": "3"}}, {"key": "whole", "value": {"intValue": "2"}},
                {"key": "d", "value": {"doubleValue": 0.25}}, {"key": "nan", "value": {"doubleValue": None}},
                {"key": "list", "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"stringValue": "b"}]}}},
                {"key": "name", "value": {"stringValue": 'q"é'}}],
            "status": {"code": 2, "message": 'bad "quote" \\ é\n'}})
        self.assertIn("é", text, "non-ASCII stays as it is, as JSON.stringify writes it")
        self.assertNotIn("\n", text, "one line")

    def test_no_parent_no_message_and_an_unset_status(self):
        self.assertEqual(json.loads(otlp_text.span_text(span(status="Unset"))), {
            "traceId": "ab" * 16, "spanId": "cd" * 8, "name": "n", "kind": 1, "startTimeUnixNano": "1",
            "endTimeUnixNano": "2", "attributes": [], "status": {"code": 0}})

    def test_shared_attributes_come_first_and_their_text_is_made_once(self):
        shared = tracing.SharedAttributes({"flowsession.node.name": "a", "span_type": "Function"})
        first = json.loads(otlp_text.span_text(span(shared=shared, attributes={"flowsession.status": "Completed"})))
        self.assertEqual(first["attributes"], [
            {"key": "flowsession.node.name", "value": {"stringValue": "a"}},
            {"key": "span_type", "value": {"stringValue": "Function"}},
            {"key": "flowsession.status", "value": {"stringValue": "Completed"}}])
        self.assertIsNotNone(shared.text)
        alone = json.loads(otlp_text.span_text(span(shared=shared)))
        self.assertEqual([a["key"] for a in alone["attributes"]], ["flowsession.node.name", "span_type"])
        self.assertEqual(span(shared=shared, attributes={"x": 1}).to_wire()["attributes"],
                         {"flowsession.node.name": "a", "span_type": "Function", "x": 1})

    def test_tokens_count_llm_spans_as_the_host_does(self):
        spans = [span(kind="llm", attributes={"gen_ai.usage.input_tokens": 5, "gen_ai.usage.output_tokens": 2}),
                 span(kind="llm", attributes={"gen_ai.usage.input_tokens": 1, "gen_ai.usage.output_tokens": 1,
                                              "flowsession.usage.total_tokens": 9}),
                 span(kind="llm", attributes={"gen_ai.usage.input_tokens": -4, "gen_ai.usage.output_tokens": "7"}),
                 span(kind="node", attributes={"gen_ai.usage.input_tokens": 100})]
        self.assertEqual(otlp_text.tokens(spans), (6, 3, 16))
        line = otlp_text.LineSpans(spans)
        self.assertEqual((line.count, line.tokens), (4, (6, 3, 16)))
        self.assertEqual(len(json.loads("[%s]" % line.text)), 4)


if __name__ == "__main__":
    unittest.main()
