"""The DAG executor runs a line whose nodes form a chain (no two ever ready at once) on a sequential path, without its
scheduler; every other line on the general path, which runs independent nodes concurrently in threads. Both must give
the same line: records, outputs, errors, events and spans. These tests run each case both ways, in-process."""
import os
import shutil
import sys
import tempfile
import unittest
from unittest import mock

from flowsession_runtime import capture
from flowsession_runtime.executor import Executor
from tests.helpers import py_node, write_files

# the tools mark themselves as prompt flow's @tool does (the attribute its tool collection looks for)
MARK = "def tool(f):\n    setattr(f, '__tool', None)\n    return f\n\n\n"
TOOLS = {
    "inc.py": MARK + "@tool\ndef inc(x: int) -> int:\n    print('inc', x)\n    return x + 1\n",
    "dbl.py": MARK + "@tool\ndef dbl(x: int) -> int:\n    return x * 2\n",
    "fail.py": MARK + "@tool\ndef fail(x: int) -> int:\n    raise ValueError('bad %d' % x)\n",
    "aio.py": MARK + "import asyncio\n\n\n@tool\nasync def aio(x: int) -> int:\n    await asyncio.sleep(0)\n"
                     "    return x + 10\n",
    "gen.py": MARK + "import sys\n\n\n@tool\ndef gen(x: int):\n    sys.stderr.write('gen\\n')\n    yield 'n='\n"
                     "    yield str(x)\n",
    "pair.py": MARK + "@tool\ndef pair(x: int) -> dict:\n    return {'k': x, 'l': [x, x + 1]}\n",
    "join.py": MARK + "@tool\ndef join(a, b=None) -> list:\n    return [a, b]\n",
    # both branches of a diamond wait for each other: they pass only when they run at the same time
    "meet.py": MARK + "import threading\n\nBARRIER = threading.Barrier(2, timeout=20)\n\n\n@tool\n"
                      "def meet(x: int) -> int:\n    BARRIER.wait()\n    return x\n",
    "total.py": MARK + "@tool\ndef total(values: list) -> int:\n    return sum(values)\n",
}
INT_X = {"x": {"type": "int"}}


def flow(nodes, outputs, inputs=None):
    return {"inputs": INT_X if inputs is None else inputs, "nodes": nodes,
            "outputs": {k: {"type": "string", "reference": v} for k, v in outputs.items()}}


def activated(node, when, is_value):
    node["activate"] = {"when": when, "is": is_value}
    return node


# name -> (flow, the lines it runs); every case but the diamond is a chain
CASES = {
    "chain": (flow([py_node("a", "inc.py", {"x": "${inputs.x}"}), py_node("b", "dbl.py", {"x": "${a.output}"}),
                    py_node("c", "gen.py", {"x": "${b.output}"})],
                   {"y": "${c.output}", "z": "${a.output}", "w": "${inputs.x}", "lit": "literal"}),
              [{"x": 1}, {"x": "7"}, {}, {"x": "seven"}]),
    "paths": (flow([py_node("a", "pair.py", {"x": "${inputs.x}"}), py_node("b", "inc.py", {"x": "${a.output.k}"}),
                    py_node("c", "join.py", {"a": "${a.output.l.1}", "b": "${b.output}"})],
                   {"y": "${c.output}", "k": "${a.output.l}"}),
              [{"x": 3}]),
    "bad_path": (flow([py_node("a", "pair.py", {"x": "${inputs.x}"}), py_node("b", "inc.py", {"x": "${a.output.no}"})],
                      {"y": "${b.output}"}),
                 [{"x": 3}]),
    "bad_output_path": (flow([py_node("a", "pair.py", {"x": "${inputs.x}"})], {"y": "${a.output.no}"}), [{"x": 3}]),
    "unsupported_section": (flow([py_node("a", "inc.py", {"x": "${inputs.x}"}),
                                  py_node("b", "inc.py", {"x": "${a.foo}"})],
                                 {"y": "${b.output}"}),
                            [{"x": 3}]),
    "activate": (flow([py_node("a", "inc.py", {"x": "${inputs.x}"}),
                       activated(py_node("b", "dbl.py", {"x": "${a.output}"}), "${a.output}", 2),
                       py_node("c", "inc.py", {"x": "${b.output}"}),
                       py_node("d", "join.py", {"a": "${a.output}", "b": "${c.output}"}),
                       activated(py_node("e", "inc.py", {"x": "${d.output.0}"}), "${inputs.x}", 2)],
                      {"y": "${d.output}", "e": "${e.output}", "c": "${c.output}"}),
                 [{"x": 1}, {"x": 2}]),
    "activate_error": (flow([py_node("a", "pair.py", {"x": "${inputs.x}"}),
                             activated(py_node("b", "inc.py", {"x": "${a.output.k}"}), "${a.output.missing}", 1),
                             py_node("c", "inc.py", {"x": "${b.output}"})],
                            {"y": "${c.output}"}),
                       [{"x": 1}]),
    "failing_middle": (flow([py_node("a", "inc.py", {"x": "${inputs.x}"}),
                             py_node("b", "fail.py", {"x": "${a.output}"}),
                             py_node("c", "inc.py", {"x": "${b.output}"})],
                            {"y": "${c.output}"}),
                       [{"x": 1}]),
    "coroutine": (flow([py_node("a", "aio.py", {"x": "${inputs.x}"}), py_node("b", "inc.py", {"x": "${a.output}"})],
                       {"y": "${b.output}"}),
                  [{"x": 1}]),
    "literals_and_types": (flow([py_node("a", "join.py", {"a": "${inputs.o}", "b": "${inputs.l}"}),
                                 py_node("b", "join.py", {"a": "${a.output}", "b": ""}),
                                 py_node("c", "join.py", {"a": "${b.output}", "b": "${inputs.f}"})],
                                {"y": "${c.output}", "s": "${inputs.s}"},
                                {"o": {"type": "object"}, "l": {"type": "list"}, "f": {"type": "bool"},
                                 "s": {"type": "string", "default": "d"}, "n": {"type": "double"}}),
                           [{"o": '{"k": 1}', "l": "[1]", "f": "true", "n": 2}, {"o": "text", "l": [2], "f": True,
                                                                                 "n": "2.5", "s": 5},
                            {"o": {}, "l": "x", "f": True, "n": 1}, {"o": {}, "l": [], "f": "maybe", "n": 1}]),
    "aggregation": (flow([py_node("a", "inc.py", {"x": "${inputs.x}"}),
                          py_node("s", "total.py", {"values": "${a.output}"}, aggregation=True)],
                         {"y": "${a.output}"}),
                    [{"x": 1}]),
    "diamond": (flow([py_node("a", "inc.py", {"x": "${inputs.x}"}), py_node("b", "meet.py", {"x": "${a.output}"}),
                      py_node("c", "meet.py", {"x": "${a.output}"}), py_node("d", "join.py", {"a": "${b.output}",
                                                                                             "b": "${c.output}"})],
                     {"y": "${d.output}"}),
                [{"x": 1}]),
}


class Channel:
    def __init__(self):
        self.events = []

    def event(self, name, **fields):
        self.events.append(dict(fields, event=name))

    def raw_event(self, data):
        self.events.append(data)


def _without(d, keys):
    return {k: v for k, v in d.items() if k not in keys}


TIMES = ("start_time", "end_time", "durationMs")


def _merged_logs(events):
    """Events with consecutive nodeLog events of a node's stream joined: the log flusher thread may send a node's
    output in one event or in several."""
    out = []
    for e in events:
        last = out[-1] if out else None
        if e["event"] == "nodeLog" and last and last["event"] == "nodeLog" and (last["node"], last["stream"]) == (
                e["node"], e["stream"]):
            last["text"] += e["text"]
        else:
            out.append(dict(e))
    return out


def normalized(result, events, ordered=True):
    """A line's result and events without what differs from run to run (times, span ids), spans' parents by name;
    unless `ordered`, records, spans and events sorted (nodes run concurrently end in any order)."""
    out = _without(result, TIMES + ("records", "trace"))
    out["records"] = [_without(r, TIMES) for r in result["records"]]
    spans = result.get("trace")
    if spans is not None:
        names = {s["spanId"]: s["name"] for s in spans}
        out["trace"] = [dict(_without(s, ("traceId", "spanId", "parentSpanId", "start", "end")),
                             parent=names.get(s.get("parentSpanId"), s.get("parentSpanId") is not None))
                        for s in spans]
        for s in spans:
            assert int(s["start"]) <= int(s["end"]), s
    out["events"] = [_without(e, ("durationMs",)) for e in _merged_logs(events)]
    for r in result["records"]:
        assert r["start_time"] <= r["end_time"], r
    if not ordered:
        for key in ("records", "trace", "events"):
            if out.get(key) is not None:
                out[key] = sorted(out[key], key=repr)
    return out


def run_case(flow_dir, flow_def, lines, trace, emit, general=False, ordered=True):
    """Each line of a case through a fresh executor, normalized; `general` forces the general path."""
    channel = Channel()
    hub = capture.Hub(channel, "r", 65536, capture.Redactor([]), log_cap=0 if not emit else None)
    stdout, stderr = sys.stdout, sys.stderr
    hub.install()
    try:
        executor = Executor(flow_def, flow_dir, {}, hub, emit_events=emit, trace=trace)
        executor.trace_id, executor.trace_parent = "0" * 32, "1" * 16
        executor.prepare()
        paths = mock.patch.object(executor, "_chain", lambda nodes: None) if general else mock.patch.object(
            executor, "_chain", executor._chain)
        out = []
        with paths:
            for i, line in enumerate(lines):
                channel.events.clear()
                result = executor.run_line(line, "r_%d" % i, i, with_aggregation=True)
                out.append(normalized(result, channel.events, ordered))
        return out
    finally:
        sys.stdout, sys.stderr = stdout, stderr


class ChainPathTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.flow_dir = os.path.realpath(tempfile.mkdtemp(prefix="fs-paths-"))
        write_files(cls.flow_dir, TOOLS)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.flow_dir, ignore_errors=True)

    def both_ways(self, name):
        """The case's lines on both paths, traced or not, with events or not; the traced lines with events."""
        flow_def, lines = CASES[name]
        ordered = name != "diamond"
        for trace in (False, True):
            for emit in (False, True):
                with self.subTest(trace=trace, emit=emit):
                    fast = run_case(self.flow_dir, flow_def, lines, trace, emit, ordered=ordered)
                    general = run_case(self.flow_dir, flow_def, lines, trace, emit, general=True, ordered=ordered)
                    self.assertEqual(fast, general)
        return fast

    def test_every_case_is_the_same_on_both_paths(self):
        for name in CASES:
            with self.subTest(case=name):
                self.both_ways(name)

    def test_a_chain_takes_the_sequential_path_and_a_diamond_does_not(self):
        hub = capture.Hub(Channel(), "r", 65536, capture.Redactor([]), log_cap=0)
        for name, chained in (("chain", True), ("activate", True), ("diamond", False)):
            executor = Executor(CASES[name][0], self.flow_dir, {}, hub, emit_events=False)
            self.assertEqual(executor._chain(executor.main_nodes) is not None, chained, name)
        self.assertIsNotNone(executor._chain(executor.agg_nodes))  # no nodes: nothing runs concurrently

    def test_chain_records_outputs_and_spans(self):
        fast = self.both_ways("chain")
        first = fast[0]
        self.assertEqual(first["status"], "Completed")
        self.assertEqual(first["outputs"], {"y": "n=4", "z": 2, "w": 1, "lit": "literal"})
        self.assertEqual([(r["node"], r["status"], r["inputs"], r["output"]) for r in first["records"]],
                         [("a", "Completed", {"x": 1}, 2), ("b", "Completed", {"x": 2}, 4),
                          ("c", "Completed", {"x": 4}, "n=4")])
        self.assertEqual(first["records"][0]["logs"], {"stdout": "inc 1\n", "stderr": ""})
        self.assertEqual(first["records"][2]["logs"], {"stdout": "", "stderr": "gen\n"})
        self.assertEqual([(e["event"], e["node"]) for e in first["events"]],
                         [("nodeStart", "a"), ("nodeLog", "a"), ("nodeEnd", "a"), ("nodeStart", "b"), ("nodeEnd", "b"),
                          ("nodeStart", "c"), ("nodeLog", "c"), ("nodeEnd", "c")])
        self.assertEqual(fast[1]["outputs"]["z"], 8)  # "7" parsed to the int input's type
        self.assertEqual(fast[2]["error"]["code"], "InputNotFound")
        self.assertEqual(fast[3]["error"]["code"], "InputTypeError")

    def test_traced_chain_spans(self):
        flow_def, lines = CASES["chain"]
        traced = run_case(self.flow_dir, flow_def, lines[:1], True, False)[0]
        self.assertEqual([(s["name"], s["parent"], s["status"]) for s in traced["trace"]],
                         [("a", "line 0", "Ok"), ("b", "line 0", "Ok"), ("c", "line 0", "Ok"), ("line 0", True, "Ok")])
        self.assertEqual(traced["trace"][1]["attributes"],
                         {"flowsession.node.name": "b", "span_type": "Function", "flowsession.node.type": "python",
                          "flowsession.status": "Completed", "flowsession.inputs": '{"x":2}',
                          "flowsession.output": "4"})

    def test_bypass_and_activate(self):
        fast = self.both_ways("activate")
        runs, skips = fast
        self.assertEqual([r["status"] for r in runs["records"]], ["Completed"] * 4 + ["Bypassed"])
        self.assertEqual(runs["outputs"], {"y": [2, 5], "e": None, "c": 5})
        self.assertEqual([r["status"] for r in skips["records"]], ["Completed", "Bypassed", "Bypassed", "Completed",
                                                                   "Completed"])
        self.assertEqual(skips["outputs"], {"y": [3, None], "e": 4, "c": None})

    def test_a_failing_middle_node_stops_the_line(self):
        fast = self.both_ways("failing_middle")[0]
        self.assertEqual(fast["status"], "Failed")
        self.assertEqual([(r["node"], r["status"]) for r in fast["records"]], [("a", "Completed"), ("b", "Failed")])
        self.assertEqual(fast["error"]["innerCode"], "ValueError")
        activate_error = self.both_ways("activate_error")[0]
        self.assertEqual(activate_error["records"][-1]["error"]["code"], "InvalidReferenceProperty")
        self.assertEqual(self.both_ways("unsupported_section")[0]["error"]["code"], "UnsupportedReference")
        self.assertEqual(self.both_ways("bad_path")[0]["error"]["code"], "InvalidReferenceProperty")
        self.assertEqual(self.both_ways("bad_output_path")[0]["error"]["code"], "InvalidReferenceProperty")

    def test_coroutine_tool_and_generator_output(self):
        self.assertEqual(self.both_ways("coroutine")[0]["outputs"], {"y": 12})
        self.assertEqual(self.both_ways("chain")[0]["records"][2]["output"], "n=4")

    def test_typed_inputs_literals_and_aggregation(self):
        typed = self.both_ways("literals_and_types")
        self.assertEqual(typed[0]["outputs"], {"y": [[[{"k": 1}, [1]], None], True], "s": "d"})
        self.assertEqual(typed[0]["inputs"]["n"], 2.0)
        self.assertEqual(typed[1]["outputs"], {"y": [[["text", [2]], None], True], "s": "5"})
        self.assertEqual(typed[2]["error"]["code"], "InputParseError")
        self.assertEqual(typed[3]["error"]["code"], "InputTypeError")
        agg = self.both_ways("aggregation")[0]
        self.assertEqual([(r["node"], r["output"]) for r in agg["records"]], [("a", 2), ("s", 2)])
        self.assertEqual(agg["agg"], {"s": {"values": 2}})

    def test_a_diamond_still_runs_its_branches_concurrently(self):
        fast = self.both_ways("diamond")[0]
        self.assertEqual(fast["status"], "Completed", fast.get("error"))
        self.assertEqual(fast["outputs"], {"y": [2, 2]})


if __name__ == "__main__":
    unittest.main()
