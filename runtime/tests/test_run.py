import time

from tests.helpers import RuntimeTestCase, prompt_node, py_node


def ends(events):
    return {e["node"]: e for e in events if e["event"] == "nodeEnd"}


class RunTest(RuntimeTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from tests.helpers import write_files
        write_files(cls.flow_dir, {
            "make.py": """
                from promptflow import tool

                @tool
                def make(n: int, label: str = "L") -> dict:
                    return {"a": {"b": n * 2, "items": [n, n + 1]}, "label": label, "n": n}
                """,
            "echo.py": """
                from promptflow.core import tool

                @tool
                def echo(value=None, extra=None):
                    return value
                """,
            "sleep.py": """
                import time
                from promptflow import tool

                @tool
                def nap(seconds: float, tag: str = "") -> str:
                    time.sleep(seconds)
                    return tag
                """,
            "fail.py": """
                from promptflow import tool

                def inner(x):
                    raise ValueError("bad value %s" % x)

                @tool
                def fail(x: str):
                    return inner(x)
                """,
            "names.jinja2": "{{ text }}|{{ template_text }}|{{ variables }}|{{ kwargs }}",
            "greet.jinja2": """
                {% for i in items %}
                - {{ i }}
                {% endfor %}
                Hello {{ name }}
                """,
        })

    def test_dag_with_nested_references_and_prompt(self):
        flow = {
            "inputs": {"n": {"type": "int"}, "name": {"type": "string", "default": "world"}},
            "outputs": {"deep": {"reference": "${make.output.a.b}"}, "item": {"reference": "${make.output.a.items[1]}"},
                        "text": {"reference": "${greet.output}"}, "name": {"reference": "${inputs.name}"}},
            "nodes": [
                prompt_node("greet", "greet.jinja2", {"items": "${make.output.a.items}", "name": "${inputs.name}"}),
                py_node("make", "make.py", {"n": "${inputs.n}"}),
            ]}
        events = []
        resp = self.run_flow(flow, {"n": "5"}, events=events)
        result = resp["result"]
        self.assertEqual(result["status"], "Completed")
        self.assertEqual(result["outputs"], {"deep": 10, "item": 6, "text": "- 5\n- 6\nHello world\n", "name": "world"})
        self.assertEqual([(e["event"], e["node"]) for e in events if e["event"] in ("nodeStart", "nodeEnd")],
                         [("nodeStart", "make"), ("nodeEnd", "make"), ("nodeStart", "greet"), ("nodeEnd", "greet")])
        detail = result["detail"]
        self.assertEqual(detail["flow_runs"][0]["inputs"], {"n": 5, "name": "world"})
        self.assertEqual(detail["flow_runs"][0]["status"], "Completed")
        self.assertEqual([r["node"] for r in detail["node_runs"]], ["make", "greet"])
        for r in detail["node_runs"]:
            for key in ("status", "inputs", "output", "error", "start_time", "end_time", "run_id"):
                self.assertIn(key, r)
        self.assertIn("Executing node make", result["log"])

    def test_template_variables_may_have_any_name(self):
        # names of the template helpers' own parameters are variables like any other
        flow = {
            "inputs": {"t": {"type": "string"}},
            "outputs": {"out": {"reference": "${names.output}"}},
            "nodes": [prompt_node("names", "names.jinja2",
                                  {"text": "${inputs.t}", "template_text": "b", "variables": "c", "kwargs": "d"})]}
        result = self.run_flow(flow, {"t": "a"})["result"]
        self.assertEqual(result["status"], "Completed", result.get("error"))
        self.assertEqual(result["outputs"], {"out": "a|b|c|d"})

    def test_activate_bypass_and_propagation(self):
        flow = {
            "inputs": {"go": {"type": "bool"}},
            "outputs": {"a": {"reference": "${a.output}"}, "b": {"reference": "${b.output}"},
                        "c": {"reference": "${c.output}"}, "d": {"reference": "${d.output}"}},
            "nodes": [
                py_node("a", "echo.py", {"value": "A"}, activate={"when": "${inputs.go}", "is": True}),
                py_node("b", "echo.py", {"value": "${a.output}"}),
                py_node("c", "echo.py", {"value": "${a.output}", "extra": "${e.output}"}),
                py_node("e", "echo.py", {"value": "E"}),
                py_node("d", "echo.py", {"value": "D"}, activate={"when": "${a.output}", "is": "A"}),
            ]}
        events = []
        result = self.run_flow(flow, {"go": "false"}, events=events)["result"]
        self.assertEqual(result["status"], "Completed")
        self.assertEqual(result["outputs"], {"a": None, "b": None, "c": None, "d": None})
        status = {k: v["status"] for k, v in ends(events).items()}
        self.assertEqual(status, {"a": "Bypassed", "b": "Bypassed", "c": "Completed", "d": "Bypassed", "e": "Completed"})
        result = self.run_flow(flow, {"go": True})["result"]
        self.assertEqual(result["outputs"], {"a": "A", "b": "A", "c": "A", "d": "D"})

    def test_variants(self):
        flow = {
            "inputs": {}, "outputs": {"o": {"reference": "${v.output}"}},
            "nodes": [{"name": "v", "use_variants": True}],
            "node_variants": {"v": {"default_variant_id": "variant_0", "variants": {
                "variant_0": {"node": py_node("v", "echo.py", {"value": "zero"})},
                "variant_1": {"node": prompt_node("v", "greet.jinja2", {"items": [], "name": "one"})}}}}}
        self.assertEqual(self.run_flow(flow)["result"]["outputs"], {"o": "zero"})
        self.assertEqual(self.run_flow(flow, variant="${v.variant_1}")["result"]["outputs"], {"o": "Hello one\n"})

    def test_input_errors(self):
        flow = {"inputs": {"n": {"type": "int"}, "xs": {"type": "list"}, "flag": {"type": "bool", "default": False}},
                "outputs": {}, "nodes": [py_node("e", "echo.py", {"value": "${inputs.n}"})]}
        r = self.run_flow(flow, {"xs": "[]"})["result"]
        self.assertEqual(r["status"], "Failed")
        self.assertEqual(r["error"]["code"], "InputNotFound")
        self.assertEqual(r["error"]["message"], "The input for flow is incorrect. The value for flow input 'n' is not "
                         "provided in input data. Please review your input data or remove this input in your flow if "
                         "it's no longer needed.")
        r = self.run_flow(flow, {"n": "abc", "xs": "[]"})["result"]
        self.assertEqual(r["error"]["code"], "InputTypeError")
        self.assertEqual(r["error"]["message"], "The input for flow is incorrect. The value for flow input 'n' does "
                         "not match the expected type 'int'. Please change flow input type or adjust the input value "
                         "in your input data.")
        r = self.run_flow(flow, {"n": 1, "xs": "[1,"})["result"]
        self.assertEqual(r["error"]["code"], "InputParseError")
        self.assertTrue(r["error"]["message"].startswith(
            "Failed to parse the flow input. The value for flow input 'xs' was interpreted as JSON string since its "
            "type is 'list'. However, the value '[1,' is invalid for JSON parsing. Error details: (JSONDecodeError)"))
        r = self.run_flow(flow, {"n": 1, "xs": "[1]", "flag": "yes"})["result"]
        self.assertEqual(r["error"]["code"], "InputTypeError")
        r = self.run_flow(flow, {"n": "7", "xs": "[1, 2]", "flag": "TRUE"})["result"]
        self.assertEqual(r["status"], "Completed")
        self.assertEqual(r["detail"]["flow_runs"][0]["inputs"], {"n": 7, "xs": [1, 2], "flag": True})

    def test_tool_error(self):
        flow = {"inputs": {}, "outputs": {"o": {"reference": "${f.output}"}},
                "nodes": [py_node("f", "fail.py", {"x": "q"}), py_node("after", "echo.py", {"value": "${f.output}"})]}
        events = []
        r = self.run_flow(flow, events=events)["result"]
        self.assertEqual(r["status"], "Failed")
        self.assertEqual(r["error"]["code"], "ToolExecutionError")
        self.assertEqual(r["error"]["node"], "f")
        self.assertEqual(r["error"]["message"], "Execution failure in 'f': (ValueError) bad value q")
        self.assertIn('File "fail.py", line 4, in inner', r["error"]["detail"])
        self.assertNotIn("flowsession_runtime", r["error"]["detail"])
        self.assertEqual({k: v["status"] for k, v in ends(events).items()}, {"f": "Failed"})
        self.assertIsNone(r["outputs"])
        fr = r["detail"]["flow_runs"][0]
        self.assertEqual(fr["status"], "Failed")
        self.assertEqual(fr["error"]["innerError"]["code"], "ToolExecutionError")

    def test_a_tool_wrapped_again_by_another_decorator_runs_through_it(self):
        from tests.helpers import write_files
        write_files(self.flow_dir, {"twice.py": """
            import functools
            from promptflow import tool

            def twice(f):
                @functools.wraps(f)
                def outer(*args, **kwargs):
                    return 2 * f(*args, **kwargs)
                return outer

            @twice
            @tool
            def plus(x: int) -> int:
                return x + 1
            """})
        flow = {"inputs": {}, "outputs": {"o": {"reference": "${p.output}"}},
                "nodes": [py_node("p", "twice.py", {"x": 4})]}
        r = self.run_flow(flow)["result"]
        self.assertEqual(r["outputs"], {"o": 10}, "the outer decorator is not skipped, though @tool's wrapper may be")

    def test_unknown_input_is_refused_before_the_run_as_validate_reports_it(self):
        flow = {"inputs": {}, "outputs": {}, "nodes": [py_node("m", "make.py", {"n": 1, "lable": 2})]}
        r = self.run_flow(flow)["result"]
        self.assertEqual((r["error"]["code"], r["error"]["node"]), ("UnknownNodeInput", "m"))
        self.assertIn("Input 'lable' for node 'm' is not an input of its tool", r["error"]["message"])
        self.assertIn("'n', 'label'", r["error"]["message"])
        self.assertIn("Did you mean 'label'?", r["error"]["message"])
        errors = self.validate(flow)["errors"]
        self.assertEqual([(e["code"], e["severity"], e["message"]) for e in errors],
                         [("UnknownNodeInput", "error", r["error"]["message"])])

    def test_literal_type_error_and_empty_literal_uses_default(self):
        flow = {"inputs": {}, "outputs": {"o": {"reference": "${m.output.label}"}},
                "nodes": [py_node("m", "make.py", {"n": "x"})]}
        r = self.run_flow(flow)["result"]
        self.assertEqual((r["error"]["code"], r["error"]["node"]), ("NodeInputValidationError", "m"))
        flow["nodes"][0]["inputs"] = {"n": "3", "label": ""}
        self.assertEqual(self.run_flow(flow)["result"]["outputs"], {"o": "L"})

    def test_graph_errors(self):
        cyc = {"inputs": {}, "outputs": {}, "nodes": [py_node("x", "echo.py", {"value": "${y.output}"}),
                                                      py_node("y", "echo.py", {"value": "${x.output}"})]}
        r = self.run_flow(cyc)["result"]
        self.assertEqual(r["error"]["code"], "NodeCircularDependency")
        self.assertIn("['x', 'y']", r["error"]["message"])
        bad = {"inputs": {}, "outputs": {}, "nodes": [py_node("x", "echo.py", {"value": "${nope.output}"})]}
        self.assertEqual(self.run_flow(bad)["result"]["error"]["code"], "NodeReferenceNotFound")
        bad = {"inputs": {}, "outputs": {}, "nodes": [py_node("x", "echo.py", {"value": "${inputs.nope}"})]}
        self.assertEqual(self.run_flow(bad)["result"]["error"]["code"], "InputReferenceNotFound")
        bad = {"inputs": {}, "outputs": {"o": {"reference": ""}}, "nodes": []}
        self.assertEqual(self.run_flow(bad)["result"]["error"]["code"], "EmptyOutputReference")
        bad = {"inputs": {}, "outputs": {"o": {"reference": "${ghost.output}"}}, "nodes": []}
        self.assertEqual(self.run_flow(bad)["result"]["error"]["code"], "OutputReferenceNotFound")

    def test_independent_nodes_run_concurrently(self):
        flow = {"inputs": {}, "outputs": {"j": {"reference": "${j.output}"}}, "nodes": [
            py_node("s1", "sleep.py", {"seconds": 0.4, "tag": "1"}),
            py_node("s2", "sleep.py", {"seconds": 0.4, "tag": "2"}),
            py_node("s3", "sleep.py", {"seconds": 0.4, "tag": "3"}),
            py_node("j", "echo.py", {"value": "${s1.output}", "extra": "${s2.output}"})]}
        t0 = time.monotonic()
        r = self.run_flow(flow)["result"]
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertEqual(r["outputs"], {"j": "1"})

    def test_output_is_captured_per_node_and_capped(self):
        self.files({"chatty.py": """
            import sys, threading
            from promptflow import tool

            @tool
            def chatty(n: int) -> int:
                print("start")
                print("warn", file=sys.stderr)
                t = threading.Thread(target=lambda: print("from a helper thread"))
                t.start(); t.join()
                chunk = "x" * 1023 + "\\n"
                for _ in range(n):
                    sys.stdout.write(chunk)
                return n
            """})
        flow = {"inputs": {}, "outputs": {"o": {"reference": "${c.output}"}},
                "nodes": [py_node("c", "chatty.py", {"n": 5 * 1024})]}  # 5 MB of output
        events = []
        r = self.run_flow(flow, events=events)["result"]
        self.assertEqual(r["outputs"], {"o": 5120})
        logs = [e for e in events if e["event"] == "nodeLog"]
        streamed = "".join(e["text"] for e in logs if e["stream"] == "stdout")
        self.assertTrue(streamed.startswith("start\nfrom a helper thread\n"), streamed[:80])
        self.assertLessEqual(len(streamed), 1024 * 1024 + 100)
        self.assertTrue(streamed.rstrip().endswith("[truncated]"))
        self.assertEqual("".join(e["text"] for e in logs if e["stream"] == "stderr"), "warn\n")
        self.assertTrue(all(len(e["text"]) <= 64 * 1024 for e in logs))
        node_run = r["detail"]["node_runs"][0]
        self.assertTrue(node_run["logs"]["stdout"].rstrip().endswith("[truncated]"))
        self.assertEqual(node_run["logs"]["stderr"], "warn\n")

    def test_connections_and_secret_redaction(self):
        self.files({"conn.py": """
            from promptflow import tool
            from promptflow.connections import CustomConnection, AzureOpenAIConnection

            @tool
            def use(c: CustomConnection, a: AzureOpenAIConnection, leak: bool = False) -> str:
                if leak:
                    print("key is", c.secret_key)
                    raise RuntimeError("failed with " + a.api_key)
                return "%s|%s|%s" % (c.endpoint, a.api_base, type(a).__name__)
            """})
        conns = {"custom": {"type": "CustomConnection", "secrets": {"secret_key": "s3cr3t-value"},
                            "configs": {"endpoint": "http://e"}},
                 "aoai": {"type": "AzureOpenAIConnection", "api_key": "azure-key-123", "api_base": "http://b",
                          "api_version": "2024-02-01"}}
        flow = {"inputs": {}, "outputs": {"o": {"reference": "${u.output}"}},
                "nodes": [py_node("u", "conn.py", {"c": "custom", "a": "aoai"})]}
        r = self.run_flow(flow, connections=conns)["result"]
        self.assertEqual(r["outputs"], {"o": "http://e|http://b|AzureOpenAIConnection"})
        flow["nodes"][0]["inputs"]["leak"] = True
        events = []
        resp = self.run_flow(flow, connections=conns, events=events)
        text = str(resp) + str(events)
        self.assertNotIn("s3cr3t-value", text)
        self.assertNotIn("azure-key-123", text)
        self.assertIn("failed with ***", resp["result"]["error"]["message"])
        flow["nodes"][0]["inputs"] = {"c": "nope", "a": "aoai"}
        r = self.run_flow(flow, connections=conns)["result"]
        self.assertEqual(r["error"]["code"], "ConnectionNotFound")

    def test_aggregation_in_a_single_run(self):
        self.files({"agg.py": """
            from typing import List
            from promptflow import tool

            @tool
            def agg(values: List[int], scale: int) -> dict:
                return {"sum": sum(values) * scale, "count": len(values)}
            """})
        flow = {"inputs": {"n": {"type": "int"}}, "outputs": {"o": {"reference": "${m.output.n}"}},
                "nodes": [py_node("m", "make.py", {"n": "${inputs.n}"}),
                          py_node("a", "agg.py", {"values": "${m.output.n}", "scale": 10}, aggregation=True)]}
        r = self.run_flow(flow, {"n": 4})["result"]
        self.assertEqual(r["outputs"], {"o": 4})
        agg = [n for n in r["detail"]["node_runs"] if n["node"] == "a"][0]
        self.assertEqual(agg["output"], {"sum": 40, "count": 1})
