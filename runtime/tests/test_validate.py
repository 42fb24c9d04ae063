from tests.helpers import RuntimeTestCase, prompt_node, py_node


def flow_of(*nodes, inputs=None):
    return {"inputs": inputs or {"q": {"type": "string"}}, "outputs": {}, "nodes": list(nodes)}


class ValidateMetaTest(RuntimeTestCase):
    def test_python_meta_types_defaults_and_connections(self):
        self.files({"typed.py": '''
            from enum import Enum
            from typing import Optional
            from promptflow.core import tool
            from promptflow.connections import AzureOpenAIConnection, CustomConnection

            class Color(Enum):
                RED = "red"
                BLUE = "blue"

            @tool
            def typed(a: int, b: float, c: bool, d: str, e: list, f: dict, conn: AzureOpenAIConnection,
                      cc: CustomConnection, g: Optional[int] = None, h="x", color: Color = Color.RED, k: set = None,
                      **kwargs) -> str:
                """Does typed things."""
                return d
            '''})
        res = self.validate(flow_of(py_node("t", "typed.py", {
            "a": 1, "b": 2.5, "c": True, "d": "s", "e": [1], "f": {}, "conn": "aoai", "cc": "custom"})))
        self.assertEqual(res["result"], "Succeeded", res["errors"])
        self.assertEqual(res["errors"], [])
        meta = res["tools"]["code"]["typed.py"]
        self.assertEqual(res["tools"]["package"], {})
        self.assertEqual(meta["type"], "python")
        self.assertEqual(meta["function"], "typed")
        self.assertEqual(meta["source"], "typed.py")
        self.assertEqual(meta["description"], "Does typed things.")
        self.assertEqual(meta["inputs"], {
            "a": {"type": ["int"]}, "b": {"type": ["double"]}, "c": {"type": ["bool"]}, "d": {"type": ["string"]},
            "e": {"type": ["list"]}, "f": {"type": ["object"]}, "conn": {"type": ["AzureOpenAIConnection"]},
            "cc": {"type": ["CustomConnection"]}, "g": {"type": ["int"], "default": ""},
            "h": {"type": ["string"], "default": "x"},
            "color": {"type": ["string"], "default": "red", "enum": ["red", "blue"]},
            "k": {"type": ["object"], "default": ""}})

    def test_prompt_and_llm_meta_in_order_of_first_use(self):
        self.files({"chat.jinja2": """
            system:
            You answer {{ topic }} things.
            {% for m in history %}{{ m }}{% endfor %}
            user:
            {{ question }} {{ topic }}
            """})
        res = self.validate(flow_of(
            prompt_node("p", "chat.jinja2", {"topic": "t", "history": [], "question": "q"}),
            prompt_node("l", "chat.jinja2", {"topic": "t", "history": [], "question": "q", "deployment_name": "d",
                                             "temperature": 0.2}, node_type="llm", connection="c", api="chat")))
        self.assertEqual(res["errors"], [])
        meta = res["tools"]["code"]["chat.jinja2"]
        self.assertEqual(meta["type"], "prompt")
        self.assertEqual(list(meta["inputs"]), ["topic", "history", "question"])
        self.assertEqual(meta["inputs"]["topic"], {"type": ["string"]})
        self.assertEqual(meta["source"], "chat.jinja2")

    def test_validate_reports_what_run_refuses(self):
        flow = {"inputs": {}, "outputs": {}, "nodes": [
            {"name": "pkg", "type": "prompt", "source": {"type": "package", "tool": "some_pkg.tools.thing"}, "inputs": {}},
            {"name": "cl", "type": "custom_llm", "source": {"type": "code", "path": "p.jinja2"}, "inputs": {}}]}
        res = self.validate(flow)
        self.assertEqual(res["result"], "Failed")
        self.assertEqual(sorted((e["code"], tuple(e["yamlPath"])) for e in res["errors"]), [
            ("UnsupportedNodeType", ("nodes", 0, "source")), ("UnsupportedNodeType", ("nodes", 1, "source"))])
        run = self.run_flow(flow)["result"]
        self.assertEqual(run["status"], "Failed")
        self.assertEqual(run["error"]["code"], "UnsupportedNodeType")
        self.assertIn(run["error"]["message"], [e["message"] for e in res["errors"]])

    def test_sources_limit_the_files_checked(self):
        self.files({"ok1.py": "from promptflow import tool\n\n@tool\ndef a() -> int:\n    return 1\n",
                    "bad1.py": "def (:\n"})
        flow = flow_of(py_node("a", "ok1.py"), py_node("b", "bad1.py"))
        res = self.validate(flow, sources=["ok1.py"])
        self.assertEqual(res["result"], "Succeeded")
        self.assertEqual(list(res["tools"]["code"]), ["ok1.py"])
        self.assertEqual(self.validate(flow)["result"], "Failed")


class ValidateErrorsTest(RuntimeTestCase):
    def only_error(self, res):
        self.assertEqual(res["result"], "Failed")
        errors = [e for e in res["errors"] if e["severity"] == "error"]
        self.assertEqual(len(errors), 1, res["errors"])
        return errors[0]

    def test_no_tool_defined(self):
        self.files({"none.py": "def plain(x):\n    return x\n"})
        e = self.only_error(self.validate(flow_of(py_node("n", "none.py"))))
        self.assertEqual(e["code"], "NoToolDefined")
        self.assertEqual((e["file"], e["line"], e["column"], e["endLine"], e["endColumn"]), ("none.py", 1, 1, 1, 14))
        self.assertIn("No tool found in the python script", e["message"])

    def test_multiple_tools_defined(self):
        self.files({"two.py": "from promptflow import tool\n\n\n@tool\ndef b():\n    pass\n\n\n@tool\ndef a():\n    pass\n"})
        res = self.validate(flow_of(py_node("n", "two.py")))
        self.assertEqual(res["result"], "Failed")
        self.assertEqual([(e["code"], e["line"], e["column"], e["endColumn"]) for e in res["errors"]],
                         [("MultipleToolsDefined", 10, 1, 9), ("MultipleToolsDefined", 5, 1, 9)])
        self.assertIn("Expected 1 but collected 2 tools: a, b.", res["errors"][0]["message"])

    def test_python_syntax_error(self):
        self.files({"syntax.py": "from promptflow import tool\n\n@tool\ndef f(x):\n    return x +\n"})
        e = self.only_error(self.validate(flow_of(py_node("n", "syntax.py", {"x": 1}))))
        self.assertEqual(e["code"], "PythonParsingError")
        self.assertEqual((e["file"], e["line"], e["column"]), ("syntax.py", 5, 15))
        self.assertGreater(e["endColumn"], e["column"])
        self.assertIn("SyntaxError", e["message"])

    def test_import_error_on_the_line_in_the_tool_file(self):
        self.files({"imports.py": "from promptflow import tool\n    \nimport not_a_module_anywhere\n"})
        e = self.only_error(self.validate(flow_of(py_node("n", "imports.py"))))
        self.assertEqual(e["code"], "PythonLoadError")
        self.assertEqual(e["message"], "Failed to load python module from file 'imports.py': (ModuleNotFoundError) "
                                       "No module named 'not_a_module_anywhere'. The session has no package that "
                                       "provides 'not_a_module_anywhere': list it in requirements.txt and reset the "
                                       "session, or install it with \"Install Packages…\" (flowsession session "
                                       "install <flow> <package>).")
        self.assertEqual((e["file"], e["line"], e["column"], e["endLine"], e["endColumn"]),
                         ("imports.py", 3, 1, 3, 29))

    def test_a_missing_part_of_prompt_flow_says_the_builtin_api_lacks_it(self):
        self.files({"azure_use.py": "from promptflow.azure import PFClient\nfrom promptflow import tool\n"})
        e = self.only_error(self.validate(flow_of(py_node("n", "azure_use.py"))))
        self.assertEqual((e["code"], e["line"]), ("PythonLoadError", 1))
        self.assertIn("No module named 'promptflow.azure'. The session's built-in prompt flow API has no "
                      "'promptflow.azure': install the promptflow package", e["message"])

    def test_error_raised_in_an_imported_user_module_is_placed_there(self):
        self.files({"uses_helper.py": "from promptflow import tool\nimport pkg.helper\n\n@tool\ndef f():\n    pass\n",
                    "pkg/__init__.py": "",
                    "pkg/helper.py": "X = 1\n\ndef boom():\n    raise ValueError('bad config')\n\n  \nboom()\n"})
        e = self.only_error(self.validate(flow_of(py_node("n", "uses_helper.py"))))
        self.assertEqual(e["code"], "PythonLoadError")
        self.assertEqual(e["message"], "Failed to load python module from file 'uses_helper.py': (ValueError) bad config")
        self.assertEqual((e["file"], e["line"], e["column"], e["endColumn"]), ("pkg/helper.py", 4, 5, 35))

    def test_syntax_error_in_an_imported_module(self):
        self.files({"uses_broken.py": "from promptflow import tool\nimport broken_helper\n",
                    "broken_helper.py": "x = 1\ny = (\n"})
        e = self.only_error(self.validate(flow_of(py_node("n", "uses_broken.py"))))
        self.assertEqual(e["code"], "PythonLoadError")
        self.assertEqual(e["file"], "broken_helper.py")
        self.assertEqual(e["line"], 2)

    def test_jinja_syntax_error(self):
        self.files({"bad.jinja2": "line one {{ a }}\nline two\n  {% if x %} open\n{{ b }\n"})
        e = self.only_error(self.validate(flow_of(prompt_node("p", "bad.jinja2", {"a": 1, "b": 2, "x": 3}))))
        self.assertEqual(e["code"], "JinjaParsingError")
        self.assertTrue(e["message"].startswith("Generate tool meta failed for prompt tool. Jinja parsing failed at "
                                                "line 4: (TemplateSyntaxError) "), e["message"])
        self.assertEqual((e["file"], e["line"], e["column"], e["endColumn"]), ("bad.jinja2", 4, 1, 7))

    def test_missing_unknown_and_mistyped_inputs(self):
        self.files({"inputs_tool.py": "from promptflow import tool\n\n@tool\ndef f(a: int, b: bool, c: str = 'x'):\n    pass\n"})
        res = self.validate(flow_of(py_node("n0", "inputs_tool.py", {"a": 1, "b": True}),
                                    py_node("n1", "inputs_tool.py", {"a": "twelve", "zzz": 1, "c": "${inputs.q}"})))
        got = sorted((e["code"], e["severity"], tuple(e["yamlPath"]), e["message"]) for e in res["errors"])
        self.assertEqual(res["result"], "Failed")
        self.assertEqual(got, sorted([
            ("MissingNodeInput", "error", ("nodes", 1, "inputs"),
             "Input 'b' for node 'n1' is required by tool function 'f' but is not provided. Please add it to the "
             "node inputs."),
            ("NodeInputValidationError", "error", ("nodes", 1, "inputs", "a"),
             "Input 'a' for node 'n1' of value 'twelve' is not type int."),
            ("UnknownNodeInput", "error", ("nodes", 1, "inputs", "zzz"),
             "Input 'zzz' for node 'n1' is not an input of its tool; the tool's inputs are: 'a', 'b', 'c'. Running "
             "the node would fail with an unexpected keyword argument."),
        ]))
        for e in res["errors"]:
            self.assertEqual(e["file"], "flow.dag.yaml")

    def test_missing_input_on_node_without_inputs_points_at_the_node(self):
        self.files({"needs.py": "from promptflow import tool\n\n@tool\ndef f(a):\n    pass\n"})
        node = py_node("n", "needs.py")
        del node["inputs"]
        e = self.only_error(self.validate(flow_of(node)))
        self.assertEqual((e["code"], e["yamlPath"]), ("MissingNodeInput", ["nodes", 0]))

    def test_llm_parameter_types_are_checked(self):
        self.files({"l.jinja2": "user:\n{{ q }}\n"})
        e = self.only_error(self.validate(flow_of(prompt_node(
            "l", "l.jinja2", {"q": "${inputs.q}", "max_tokens": "lots", "deployment_name": "d"}, node_type="llm",
            connection="c"))))
        self.assertEqual((e["code"], e["yamlPath"]), ("NodeInputValidationError", ["nodes", 0, "inputs", "max_tokens"]))

    def test_invalid_source(self):
        with open(self.flow_dir + "/../fs-outside.py", "w") as f:
            f.write("from promptflow import tool\n\n@tool\ndef f():\n    pass\n")
        res = self.validate(flow_of(py_node("n", "missing.py"), py_node("m", "../fs-outside.py")))
        self.assertEqual([(e["code"], e["yamlPath"], e["message"]) for e in res["errors"]], [
            ("InvalidSource", ["nodes", 0, "source", "path"], "Node source path 'missing.py' is invalid on node 'n'."),
            ("InvalidSource", ["nodes", 1, "source", "path"],
             "Node source path '../fs-outside.py' is invalid on node 'm'.")])

    def test_variants_are_all_checked(self):
        self.files({"v.py": "from promptflow import tool\n\n@tool\ndef f(a: int):\n    return a\n"})
        flow = flow_of({"name": "s", "use_variants": True})
        flow["node_variants"] = {"s": {"default_variant_id": "v0", "variants": {
            "v0": {"node": py_node("s", "v.py", {"a": 1})},
            "v1": {"node": py_node("s", "v.py", {"a": "one"})}}}}
        e = self.only_error(self.validate(flow))
        self.assertEqual(e["yamlPath"], ["node_variants", "s", "variants", "v1", "node", "inputs", "a"])
