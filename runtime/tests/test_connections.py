"""Every connection type reaches a python tool as prompt flow's class, with prompt flow's attribute names; a
custom strong type from the flow's own code and from a tool package; secrets never in results."""
import hashlib
import json
import os
import unittest

from tests.helpers import RUNTIME_DIR
from tests.test_package_tools import PackageSiteTestCase, flow_of, pkg_node

FIXTURE = os.path.join(RUNTIME_DIR, "..", "test", "fixtures", "connections")
SECRET = "sk-conn-secret-5b7f0d2c91"
SHA = hashlib.sha256(SECRET.encode()).hexdigest()


def every_connection():
    """What the extension sends for the fixture's connections folder (see src/core/runs/connectionsFile.ts)."""
    k = SECRET
    return {
        "my_aoai": {"type": "AzureOpenAIConnection", "api_key": k, "api_base": "https://aoai.example",
                    "api_type": "azure", "api_version": "2023-03-15-preview"},
        "my_oai": {"type": "OpenAIConnection", "api_key": k, "organization": "org-1",
                   "base_url": "https://oai.example/v1"},
        "my_serp": {"type": "SerpConnection", "api_key": k},
        "my_search": {"type": "CognitiveSearchConnection", "api_key": k, "api_base": "https://search.example",
                      "api_version": "2023-07-01-Preview"},
        "my_safety": {"type": "AzureContentSafetyConnection", "api_key": k, "endpoint": "https://safety.example",
                      "api_version": "2023-04-30-preview"},
        "my_forms": {"type": "FormRecognizerConnection", "api_key": k, "endpoint": "https://forms.example"},
        "my_serverless": {"type": "ServerlessConnection", "api_key": k, "api_base": "https://serverless.example"},
        "my_services": {"type": "AzureAIServicesConnection", "api_key": k, "endpoint": "https://services.example"},
        "my_qdrant": {"type": "QdrantConnection", "api_key": k, "api_base": "https://qdrant.example"},
        "my_weaviate": {"type": "WeaviateConnection", "api_key": k, "api_base": "https://weaviate.example"},
        "my_custom": {"type": "CustomConnection", "configs": {"region": "north"}, "secrets": {"api_key": k}},
        "my_local": {"type": "CustomConnection", "custom_type": "LocalConnection", "module": "conns",
                     "configs": {"api_base": "https://local.example"}, "secrets": {"api_key": k}},
    }


def load_flow():
    """flow.dag.yaml of the fixture as JSON (the extension parses the YAML; this one is simple enough to write)."""
    with open(os.path.join(FIXTURE, "conns.py"), encoding="utf-8") as f:
        code = f.read()
    node_inputs = {n: "my_" + n for n in ("aoai", "oai", "serp", "search", "safety", "forms", "serverless",
                                          "services", "qdrant", "weaviate", "custom", "local")}
    node_inputs["secret_sha256"] = "${inputs.secret_sha256}"
    flow = {"inputs": {"secret_sha256": {"type": "string", "default": ""}},
            "outputs": {"report": {"type": "object", "reference": "${show.output}"}},
            "nodes": [{"name": "show", "type": "python", "source": {"type": "code", "path": "conns.py"},
                       "inputs": node_inputs}]}
    return code, flow


class ConnectionTypesTest(PackageSiteTestCase):
    def test_every_type_reaches_the_tool_as_prompt_flows_class(self):
        code, flow = load_flow()
        self.files({"conns.py": code})
        resp = self.run_flow(flow, {"secret_sha256": SHA}, connections=every_connection())
        self.assertNotIn(SECRET, json.dumps(resp), "the secret is not in the result")
        r = resp["result"]
        self.assertEqual(r["status"], "Completed", r)
        report = r["outputs"]["report"]
        for key, conn in report.items():
            self.assertTrue(conn["key_arrived"], key)
            self.assertTrue(conn["attribute_key_arrived"], key)
        self.assertEqual(report["aoai"], {"class": "AzureOpenAIConnection", "name": "my_aoai",
                                          "api_base": "https://aoai.example", "api_type": "azure",
                                          "api_version": "2023-03-15-preview", "auth_mode": "key",
                                          "key_arrived": True, "attribute_key_arrived": True})
        self.assertEqual((report["oai"]["organization"], report["oai"]["base_url"]), ("org-1", "https://oai.example/v1"))
        self.assertEqual(report["serp"]["class"], "SerpConnection")
        self.assertEqual((report["search"]["api_base"], report["search"]["api_version"]),
                         ("https://search.example", "2023-07-01-Preview"))
        self.assertEqual((report["safety"]["endpoint"], report["safety"]["api_type"]),
                         ("https://safety.example", "Content Safety"))
        self.assertEqual((report["forms"]["class"], report["forms"]["api_version"], report["forms"]["api_type"]),
                         ("FormRecognizerConnection", "2023-07-31", "Form Recognizer"))
        self.assertEqual(report["serverless"]["api_base"], "https://serverless.example")
        self.assertEqual(report["services"]["endpoint"], "https://services.example")
        self.assertEqual((report["qdrant"]["class"], report["weaviate"]["api_base"]),
                         ("QdrantConnection", "https://weaviate.example"))
        self.assertEqual(report["custom"], {"class": "CustomConnection", "configs": {"region": "north"},
                                            "attribute_config": "north", "item_config": "north",
                                            "secret_keys": ["api_key"], "key_arrived": True,
                                            "attribute_key_arrived": True})
        self.assertEqual(report["local"]["class"], "LocalConnection")
        self.assertEqual(report["local"]["api_base"], "https://local.example", "the connection's value, not the default")
        self.assertEqual(report["local"]["configs_api_base"], "https://local.example")

    def test_a_plain_custom_connection_becomes_the_annotated_strong_type(self):
        code, flow = load_flow()
        self.files({"conns.py": code})
        conns = every_connection()
        conns["my_local"] = {"type": "CustomConnection", "configs": {"api_base": "b"}, "secrets": {"api_key": SECRET}}
        r = self.run_flow(flow, {"secret_sha256": SHA}, connections=conns)["result"]
        self.assertEqual(r["status"], "Completed", r)
        self.assertEqual(r["outputs"]["report"]["local"]["class"], "LocalConnection")
        self.assertTrue(r["outputs"]["report"]["local"]["key_arrived"])

    def test_a_connection_of_the_wrong_type_fails_as_prompt_flow_says(self):
        code, flow = load_flow()
        self.files({"conns.py": code})
        conns = every_connection()
        conns["my_serp"] = conns["my_oai"]
        r = self.run_flow(flow, {"secret_sha256": SHA}, connections=conns)["result"]
        self.assertEqual(r["status"], "Failed", r)
        self.assertIn("Input 'serp' for node 'show' of type 'OpenAIConnection' is not supported, valid types "
                      "['SerpConnection'].", r["error"]["message"])
        self.assertNotIn(SECRET, json.dumps(r))

    def test_a_package_tools_strong_type_connection(self):
        flow = flow_of(pkg_node("unlock", "fs_tools.secure.unlock", {
            "connection": "vault", "door": "${inputs.q}", "token_sha256": SHA}),
            outputs={"o": {"type": "object", "reference": "${unlock.output}"}})
        conns = {"vault": {"type": "CustomConnection", "custom_type": "VaultConnection",
                           "module": "fs_tools.secure", "configs": {"region": "west"}, "secrets": {"token": SECRET}}}
        resp = self.run_flow(flow, {"q": "front"}, connections=conns)
        self.assertNotIn(SECRET, json.dumps(resp))
        r = resp["result"]
        self.assertEqual(r["status"], "Completed", r)
        out = r["outputs"]["o"]
        self.assertEqual(out["class"], "VaultConnection")
        self.assertEqual(out["module"], "fs_tools.secure")
        self.assertEqual((out["region"], out["configs_region"], out["door"]), ("west", "west", "front"))
        self.assertTrue(out["token_arrived"])
        self.assertEqual(out["secret_keys"], ["token"])
        tools = self.validate(flow)["tools"]["package"]
        self.assertEqual(tools["fs_tools.secure.unlock"]["inputs"]["connection"]["custom_type"], ["VaultConnection"])

    def test_validate_checks_connection_names_and_types_only_when_it_knows_them(self):
        code, flow = load_flow()
        self.files({"conns.py": code, "chat.jinja2": "# user:\nhi\n"})
        flow["nodes"].append({"name": "chat", "type": "llm", "source": {"type": "code", "path": "chat.jinja2"},
                              "connection": "my_serp", "api": "chat", "inputs": {"deployment_name": "d"}})
        self.assertEqual(self.validate(flow)["errors"], [], "unknown connections: not checked")
        shapes = {k: {kk: vv for kk, vv in v.items() if kk in ("type", "custom_type", "module")}
                  for k, v in every_connection().items()}
        del shapes["my_serp"]
        errors = self.validate(flow, connections=shapes)["errors"]
        self.assertEqual([(e["code"], e["yamlPath"]) for e in errors], [
            ("ConnectionNotFound", ["nodes", 0, "inputs", "serp"]),
            ("ConnectionNotFound", ["nodes", 1, "connection"])])
        shapes["my_serp"] = shapes["my_oai"]
        flow["nodes"][1]["connection"] = "my_search"
        errors = self.validate(flow, connections=shapes)["errors"]
        self.assertEqual([(e["code"], e["yamlPath"]) for e in errors], [
            ("NodeInputValidationError", ["nodes", 0, "inputs", "serp"]),
            ("NodeInputValidationError", ["nodes", 1, "connection"])])
        self.assertIn("of type 'OpenAIConnection' is not supported, valid types ['SerpConnection']",
                      errors[0]["message"])
        shapes["my_serp"] = {"type": "SerpConnection"}
        flow["nodes"][1]["connection"] = "my_aoai"
        self.assertEqual(self.validate(flow, connections=shapes)["errors"], [])


class ShimConnectionClassesTest(unittest.TestCase):
    """The shim's classes behave as promptflow-core's: constructors, defaults, attribute and item access."""

    def test_classes(self):
        import sys
        shim = os.path.join(RUNTIME_DIR, "shim")
        sys.path.insert(0, shim)
        try:
            for mod in [m for m in sys.modules if m == "promptflow" or m.startswith("promptflow.")]:
                del sys.modules[mod]
            import promptflow.connections as pfc
            from promptflow.contracts.types import Secret
            a = pfc.AzureOpenAIConnection(api_base="b", api_key="k")
            self.assertEqual((a.api_base, a.api_key, a.api_type, a.api_version, a.auth_mode, a["api_key"]),
                             ("b", "k", "azure", "2024-02-01", "key", "k"))
            self.assertNotIn("k", repr(a))
            self.assertEqual(sorted(a.keys()), ["api_base", "api_key", "api_type", "api_version", "auth_mode"])
            o = pfc.OpenAIConnection(api_key="k", base_url="_")
            self.assertIsNone(o.base_url)
            c = pfc.CustomConnection(secrets={"s": "1"}, configs={"c": "2"})
            self.assertEqual((c.s, c.c, c["s"], c.is_secret("s"), c.is_secret("c")), ("1", "2", "1", True, False))
            with self.assertRaises(AttributeError):
                c.missing  # noqa: B018

            class Mine(pfc.CustomStrongTypeConnection):
                key: Secret
                base: str = "default"
            m = Mine(secrets={"key": "k"}, configs={"base": "given"})
            self.assertEqual((m.key, m.base, m.custom_type), ("k", "given", "Mine"))
            m.base = "set"
            self.assertEqual(m.configs["base"], "set")
        finally:
            sys.path.remove(shim)
            for mod in [m for m in sys.modules if m == "promptflow" or m.startswith("promptflow.")]:
                del sys.modules[mod]
