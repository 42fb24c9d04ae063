import json
import os
import shutil
import tempfile
import time

from tests.helpers import RUNTIME_DIR, Runtime, RuntimeTestCase, write_files
from tests.test_llm import KEY, Stub, StubTestCase

TOOLPKG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "toolpkg")
TOKEN = "tok-secret-0123456789"


def install_tool_package(site):
    """fs_tools into a site folder as pip would lay it out: the code, and dist-info with the entry point."""
    shutil.copytree(os.path.join(TOOLPKG, "fs_tools"), os.path.join(site, "fs_tools"))
    write_files(site, {
        "fs_tools-1.0.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: fs-tools\nVersion: 1.0.0\n",
        "fs_tools-1.0.0.dist-info/entry_points.txt": "[package_tools]\nfs_tools = fs_tools:list_package_tools\n",
    })


def pkg_node(name, tool, inputs, **extra):
    node = {"name": name, "type": "python", "source": {"type": "package", "tool": tool}, "inputs": inputs}
    node.update(extra)
    return node


def flow_of(*nodes, outputs=None, inputs=None):
    return {"inputs": inputs or {"q": {"type": "string", "default": "ada"}}, "outputs": outputs or {},
            "nodes": list(nodes)}


class PackageSiteTestCase(RuntimeTestCase):
    """A runtime whose environment has the test tool package fs_tools installed."""

    @classmethod
    def setUpClass(cls):
        cls.flow_dir = os.path.realpath(tempfile.mkdtemp(prefix="fs-flow-"))
        cls.site = tempfile.mkdtemp(prefix="fs-site-")
        install_tool_package(cls.site)
        cls.rt = Runtime(cls.flow_dir, env={"PYTHONPATH": RUNTIME_DIR + os.pathsep + cls.site})

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.site, ignore_errors=True)


class PackageToolsTest(PackageSiteTestCase):
    def conns(self):
        return {"cc": {"type": "CustomConnection", "configs": {"region": "x"}, "secrets": {"token": TOKEN}}}

    def test_metadata_from_the_entry_point_and_from_the_code(self):
        flow = flow_of(
            pkg_node("g", "fs_tools.tools.greet", {"name": "${inputs.q}"}),
            pkg_node("c", "fs_tools.tools.Counter.count", {"connection": "cc", "word": "w"}),
            pkg_node("s", "fs_tools.plain.shout", {"text": "${inputs.q}"}),
            pkg_node("st", "fs_tools.tools.styled", {"text": "t"}))
        res = self.validate(flow)
        self.assertEqual(res["errors"], [])
        self.assertEqual(res["tools"]["code"], {})
        package = res["tools"]["package"]
        self.assertEqual(sorted(package), ["fs_tools.plain.shout", "fs_tools.tools.Counter.count",
                                           "fs_tools.tools.greet", "fs_tools.tools.styled"])
        greet = package["fs_tools.tools.greet"]
        self.assertEqual((greet["package"], greet["package_version"], greet["name"]), ("fs-tools", "1.0.0", "Greet"))
        self.assertEqual(greet["inputs"]["flourish"], {"type": ["string"], "enabled_by": "mode",
                                                       "enabled_by_value": ["fancy"]})
        self.assertEqual(package["fs_tools.tools.Counter.count"]["class_name"], "Counter")
        shout = package["fs_tools.plain.shout"]
        self.assertEqual(shout, {"name": "shout", "type": "python", "module": "fs_tools.plain", "function": "shout",
                                 "inputs": {"text": {"type": ["string"]},
                                            "times": {"type": ["int"], "default": "1"}}})
        styled = package["fs_tools.tools.styled"]
        self.assertEqual(styled["name"], "Styled")
        self.assertEqual(styled["inputs"]["notes"], {"type": ["file_path"], "default": ""})
        self.assertEqual(styled["inputs"]["suffix"]["enabled_by"], "styled")
        self.assertEqual(styled["inputs"]["style"]["dynamic_list"], {
            "func_path": "fs_tools.tools.list_styles",
            "func_kwargs": [{"name": "prefix", "type": ["string"], "optional": True, "default": "",
                             "reference": "${inputs.text}"}]})

    def test_class_tool_metadata_from_the_code_has_the_init_inputs(self):
        res = self.validate(flow_of(pkg_node("c", "fs_tools.tools.Counter.count", {"connection": "cc", "word": "w"})))
        self.assertEqual(res["errors"], [])
        # listed by the entry point: its metadata wins; the code agrees on the inputs
        self.assertEqual(list(res["tools"]["package"]["fs_tools.tools.Counter.count"]["inputs"]),
                         ["connection", "start", "word"])

    def test_node_inputs_are_checked(self):
        flow = flow_of(
            pkg_node("missing", "fs_tools.tools.greet", {}),
            pkg_node("cascade", "fs_tools.tools.greet", {"name": "n", "mode": "fancy"}),
            pkg_node("off", "fs_tools.tools.greet", {"name": "n", "mode": "plain"}),
            pkg_node("typed", "fs_tools.plain.shout", {"text": "t", "times": "many", "loud": True}),
            pkg_node("unknown", "promptflow.tools.serpapi.SerpAPI.search", {}),
            pkg_node("nowhere", "no_such_pkg.tools.thing", {}))
        res = self.validate(flow)
        self.assertEqual(res["result"], "Failed")
        got = sorted((e["code"], e["severity"], tuple(e["yamlPath"])) for e in res["errors"])
        self.assertEqual(got, [
            ("MissingNodeInput", "error", ("nodes", 0, "inputs")),
            ("MissingNodeInput", "error", ("nodes", 1, "inputs")),
            ("NodeInputValidationError", "error", ("nodes", 3, "inputs", "times")),
            ("PackageToolNotFoundError", "error", ("nodes", 4, "source", "tool")),
            ("PackageToolNotFoundError", "error", ("nodes", 5, "source", "tool")),
            ("UnknownNodeInput", "error", ("nodes", 3, "inputs", "loud"))])
        by_node = {e["yamlPath"][1]: e["message"] for e in res["errors"]}
        self.assertIn("'flourish'", by_node[1])
        self.assertIn("promptflow-tools", by_node[4])
        self.assertIn("fs_tools.tools.greet", by_node[4])  # the available tools are listed
        self.assertNotIn("requirements", by_node[5])

    def test_function_class_and_import_only_tools_run(self):
        self.files({"notes.txt": "from the notes\n"})
        flow = flow_of(
            pkg_node("g", "fs_tools.tools.greet", {"name": "${inputs.q}", "mode": "fancy", "flourish": "Oh",
                                                   "times": "2"}),
            pkg_node("s", "fs_tools.plain.shout", {"text": "${g.output}"}),
            pkg_node("st", "fs_tools.tools.styled", {"text": "${inputs.q}", "styled": True, "suffix": "?",
                                                     "notes": "notes.txt"}),
            pkg_node("c", "fs_tools.tools.Counter.count", {"connection": "cc", "start": "10", "word": "${inputs.q}"}),
            outputs={"g": {"reference": "${g.output}"}, "s": {"reference": "${s.output}"},
                     "st": {"reference": "${st.output}"}, "c": {"reference": "${c.output}"}})
        r = self.run_flow(flow, {"q": "ada"}, connections=self.conns())["result"]
        self.assertEqual(r["status"], "Completed", r.get("error"))
        self.assertEqual(r["outputs"], {
            "g": "Oh Hello, ada Oh Hello, ada", "s": "OH HELLO, ADA OH HELLO, ADA!",
            "st": "[plain] ada? from the notes", "c": {"word": "ada", "calls": 11, "token_length": len(TOKEN)}})
        self.assertNotIn(TOKEN, json.dumps(r))

    def test_a_retired_tool_id_runs_as_the_tool_that_lists_it_in_deprecated_tools(self):
        flow = flow_of(pkg_node("g", "fs_old_tools.greeter.greet", {"name": "${inputs.q}"}),
                       outputs={"g": {"reference": "${g.output}"}})
        res = self.validate(flow)
        self.assertEqual(res["errors"], [])
        self.assertIn("fs_tools.tools.greet", res["tools"]["package"])
        r = self.run_flow(flow, {"q": "ada"})["result"]
        self.assertEqual((r["status"], r["outputs"]), ("Completed", {"g": "Hello, ada"}), r.get("error"))
        # prompt flow's own retired id, without promptflow-tools here: the package that maps it is named
        old = flow_of(pkg_node("cs", "content_safety_text.tools.content_safety_text_tool.analyze_text", {}))
        e = self.validate(old)["errors"][0]
        self.assertEqual(e["code"], "PackageToolNotFoundError")
        self.assertIn("'promptflow-tools'", e["message"])

    def test_a_node_level_connection_fills_the_tools_connection_input(self):
        node = pkg_node("c", "fs_tools.tools.Counter.count", {"word": "${inputs.q}"}, connection="cc")
        flow = flow_of(node, outputs={"c": {"reference": "${c.output}"}})
        self.assertEqual(self.validate(flow)["errors"], [])
        r = self.run_flow(flow, {"q": "ada"}, connections=self.conns())["result"]
        self.assertEqual(r["status"], "Completed", r.get("error"))
        self.assertEqual(r["outputs"]["c"], {"word": "ada", "calls": 1, "token_length": len(TOKEN)})
        r = self.run_flow(flow, {"q": "ada"})["result"]
        self.assertEqual(r["error"]["code"], "ConnectionNotFound")
        self.assertIn("'cc'", r["error"]["message"])

    def test_one_class_instance_per_run(self):
        data = os.path.join(self.flow_dir, "words.jsonl")
        with open(data, "w") as f:
            f.write('{"w": "a"}\n{"w": "b"}\n{"w": "c"}\n')
        flow = flow_of(pkg_node("c", "fs_tools.tools.Counter.count", {"connection": "cc", "word": "${inputs.q}"}),
                       outputs={"calls": {"reference": "${c.output.calls}"}})
        events = []
        self.rt.call("batch", {"runId": "b-%d" % time.monotonic_ns(), "flow": flow, "flowDir": self.flow_dir,
                               "dataPath": "words.jsonl", "workers": 1, "connections": self.conns(),
                               "columnMapping": {"q": "${data.w}"}}, events=events, timeout=120)
        calls = sorted(e["output"]["calls"] for e in events if e.get("event") == "lineEnd")
        self.assertEqual(calls, [1, 2, 3])

    def test_class_init_inputs_must_be_literals(self):
        flow = flow_of(pkg_node("c", "fs_tools.tools.Counter.count", {"connection": "${inputs.q}", "word": "w"}))
        r = self.run_flow(flow, {"q": "cc"}, connections=self.conns())["result"]
        self.assertEqual(r["status"], "Failed")
        self.assertEqual(r["error"]["code"], "ResolveToolError")
        self.assertIn("(InputTypeMismatch) Invalid input for 'Count': Initialization input 'connection' requires a "
                      "literal value", r["error"]["message"])
        missing = self.run_flow(flow_of(pkg_node("c", "fs_tools.tools.Counter.count", {"word": "w"})))["result"]
        self.assertIn("(MissingRequiredInputs) Required inputs ['connection'] are not provided for tool 'Count'.",
                      missing["error"]["message"])

    def test_an_unknown_tool_fails_the_run_as_validate_says(self):
        flow = flow_of(pkg_node("u", "promptflow.tools.serpapi.SerpAPI.search", {}))
        r = self.run_flow(flow)["result"]
        self.assertEqual(r["error"]["code"], "ResolveToolError")
        self.assertIn("(PackageToolNotFoundError) Package tool 'promptflow.tools.serpapi.SerpAPI.search' is not "
                      "found in the current environment.", r["error"]["message"])


class BuiltinToolsTest(StubTestCase):
    """promptflow-tools is not installed here: the runtime's own embedding and GPT-4V tools answer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        write_files(cls.flow_dir, {
            "vision.jinja2": "# system:\nDescribe images.\n# user:\n{{ question }}\n![image]({{ picture }})\n",
            "pixel.png": "\x89PNG fake",
        })

    def conns(self, key=KEY):
        return {"oa": {"type": "OpenAIConnection", "api_key": key, "base_url": self.base + "/v1"},
                "az": {"type": "AzureOpenAIConnection", "api_key": key, "api_base": self.base,
                       "api_version": "2024-06-01"}}

    def test_embedding_with_openai_and_azure(self):
        flow = flow_of(
            pkg_node("oa", "promptflow.tools.embedding.embedding", {"connection": "oa", "input": "${inputs.q}",
                                                                   "model": "text-embedding-3-small"}),
            pkg_node("az", "promptflow.tools.embedding.embedding", {"connection": "az", "input": "four",
                                                                   "deployment_name": "emb"}),
            outputs={"oa": {"reference": "${oa.output}"}, "az": {"reference": "${az.output}"}})
        self.assertEqual(self.validate(flow)["errors"], [])
        r = self.run_flow(flow, {"q": "hello"}, connections=self.conns(), trace=True)["result"]
        self.assertEqual(r["status"], "Completed", r.get("error"))
        self.assertEqual(r["outputs"], {"oa": [5.0, 0.5], "az": [4.0, 0.5]})
        # each call is an LLM span of its node, as OpenTelemetry's GenAI conventions name an embeddings request
        calls = {s["name"]: s["attributes"] for s in r["trace"] if s["kind"] == "llm"}
        self.assertEqual(calls["embeddings text-embedding-3-small"]["gen_ai.system"], "openai")
        self.assertEqual(calls["embeddings emb"]["gen_ai.system"], "az.ai.openai")
        self.assertEqual(calls["embeddings emb"]["gen_ai.operation.name"], "embeddings")
        paths = sorted(q["path"] for q in Stub.requests)
        self.assertEqual(paths, ["/openai/deployments/emb/embeddings?api-version=2024-06-01", "/v1/embeddings"])
        oa = next(q for q in Stub.requests if q["path"] == "/v1/embeddings")
        self.assertEqual(oa["body"], {"model": "text-embedding-3-small", "input": "hello"})

    def vision_node(self, tool, connection, **inputs):
        return {"name": "v", "type": "custom_llm", "inputs": dict({"connection": connection, "question": "What?",
                                                                  "picture": "pixel.png", "max_tokens": 64}, **inputs),
                "source": {"type": "package_with_prompt", "tool": tool, "path": "vision.jinja2"}}

    def test_gpt4v_tools_send_the_prompt_with_its_images(self):
        flow = flow_of(self.vision_node("promptflow.tools.aoai_gpt4v.AzureOpenAI.chat", "az", deployment_name="gpt4v"),
                       outputs={"a": {"reference": "${v.output}"}})
        res = self.validate(flow)
        self.assertEqual(res["errors"], [])
        self.assertEqual(res["tools"]["package"]["promptflow.tools.aoai_gpt4v.AzureOpenAI.chat"]["type"], "custom_llm")
        r = self.run_flow(flow, connections=self.conns())["result"]
        self.assertEqual(r["status"], "Completed", r.get("error"))
        req = Stub.requests[0]
        self.assertEqual(req["path"], "/openai/deployments/gpt4v/chat/completions?api-version=2024-06-01")
        user = req["body"]["messages"][1]["content"]
        self.assertEqual(user[0], {"type": "text", "text": "What?"})
        self.assertEqual(user[1]["type"], "image_url")
        # a literal the template shows as an image is loaded as one; its bytes are no known image format, so its
        # type is image/* (prompt flow guesses from the bytes, not the name)
        self.assertTrue(user[1]["image_url"]["url"].startswith("data:image/*;base64,"))
        self.assertEqual(req["body"]["max_tokens"], 64)
        self.assertTrue(r["outputs"]["a"].startswith("echo: "))

        # an image fetched from a URL is sent by its URL
        flow = flow_of(self.vision_node("promptflow.tools.openai_gpt4v.OpenAI.chat", "oa",
                                        picture=self.base + "/images/cat.png"),
                       outputs={"a": {"reference": "${v.output}"}})
        r = self.run_flow(flow, connections=self.conns())["result"]
        self.assertEqual(r["status"], "Completed", r.get("error"))
        req = Stub.requests[-1]
        self.assertEqual((req["path"], req["body"]["model"]), ("/v1/chat/completions", "gpt-4-vision-preview"))
        self.assertEqual(req["body"]["messages"][1]["content"][1]["image_url"],
                         {"url": self.base + "/images/cat.png", "detail": "auto"})

    def test_a_rejected_key_is_never_shown(self):
        flow = flow_of(pkg_node("e", "promptflow.tools.embedding.embedding", {"connection": "oa", "input": "x"}))
        r = self.run_flow(flow, connections=self.conns(key="sk-wrong-secret-999"))["result"]
        self.assertEqual(r["status"], "Failed")
        self.assertIn("HTTP 401", r["error"]["message"])
        self.assertNotIn("sk-wrong-secret-999", json.dumps(r))
