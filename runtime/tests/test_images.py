"""Image flow inputs (prompt flow's forms) reach python tools and the GPT-4V tools as prompt flow's Image type;
images in results travel as base64 dicts for the client to store as files."""
import base64
import json

from tests.helpers import py_node, write_files
from tests.test_llm import KEY, Stub, StubTestCase
from tests.test_package_tools import flow_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16 + b"flow image"
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg image"


def b64(data):
    return base64.b64encode(data).decode()


class ImageInputsTest(StubTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        write_files(cls.flow_dir, {
            "describe.py": """
                from promptflow import tool
                from promptflow.contracts.multimedia import Image


                @tool
                def describe(img: Image, many: list = None) -> dict:
                    many = many or []
                    return {"cls": type(img).__module__ + "." + type(img).__name__, "mime": img._mime_type,
                            "size": len(img), "is_bytes": isinstance(img, bytes), "str": str(img),
                            "many": [type(i).__name__ + ":" + getattr(i, "_mime_type", "-") for i in many]}
                """,
            "flip.py": """
                from promptflow import tool
                from promptflow.contracts.multimedia import Image


                @tool
                def flip(img: Image) -> dict:
                    return {"same": img, "new": Image(bytes(img)[::-1], mime_type="image/jpeg"), "text": "ok"}
                """,
            "vision.jinja2": "# user:\nWhat is this?\n![image]({{ picture }})\n",
        })
        with open(cls.flow_dir + "/pic.png", "wb") as f:
            f.write(PNG)
        with open(cls.flow_dir + "/photo.jpg", "wb") as f:
            f.write(JPEG)

    def describe_flow(self):
        return flow_of(py_node("d", "describe.py", {"img": "${inputs.img}", "many": "${inputs.many}"}),
                       inputs={"img": {"type": "image"}, "many": {"type": "list", "default": []}},
                       outputs={"o": {"reference": "${d.output}"}})

    def test_every_input_form_arrives_as_prompt_flows_image(self):
        forms = {
            "a path": "pic.png",
            "a path dict": {"data:image/png;path": "pic.png"},
            "a data URI": "data:image/png;base64," + b64(PNG),
            "a base64 dict": {"data:image/png;base64": b64(PNG)},
            "a URL": self.base + "/images/cat.png",
            "a URL dict": {"data:image/png;url": self.base + "/images/cat.png"},
        }
        for what, value in forms.items():
            r = self.run_flow(self.describe_flow(), {"img": value})["result"]
            self.assertEqual(r["status"], "Completed", (what, r.get("error")))
            o = r["outputs"]["o"]
            self.assertEqual(o["cls"], "promptflow.contracts.multimedia.Image", what)
            self.assertEqual(o["mime"], "image/png", what)
            self.assertTrue(o["is_bytes"], what)
            self.assertRegex(o["str"], r"^Image\([0-9a-f]{8}\)$", what)
            self.assertEqual(o["size"], len(Stub.PNG if "URL" in what else PNG), what)

    def test_images_inside_a_list_input_and_the_mime_type_from_the_bytes(self):
        r = self.run_flow(self.describe_flow(), {"img": "photo.jpg", "many": [
            {"data:image/png;path": "pic.png"}, {"data:image/jpeg;base64": b64(JPEG)}, "not an image"]})["result"]
        self.assertEqual(r["status"], "Completed", r.get("error"))
        self.assertEqual(r["outputs"]["o"]["mime"], "image/jpeg")
        self.assertEqual(r["outputs"]["o"]["many"], ["Image:image/png", "Image:image/jpeg", "str:-"])

    def test_a_missing_image_fails_the_line_as_prompt_flow_says(self):
        r = self.run_flow(self.describe_flow(), {"img": "nowhere.png"})["result"]
        self.assertEqual(r["status"], "Failed")
        self.assertEqual(r["error"]["code"], "LoadMultimediaDataError")
        self.assertIn("Failed to load image for input 'img'", r["error"]["message"])
        r = self.run_flow(self.describe_flow(), {"img": {"data:image/png;nope": "x"}})["result"]
        self.assertEqual(r["error"]["code"], "LoadMultimediaDataError")

    def test_image_outputs_travel_as_base64_or_url_dicts(self):
        flow = flow_of(py_node("f", "flip.py", {"img": "${inputs.img}"}), inputs={"img": {"type": "image"}},
                       outputs={"o": {"reference": "${f.output}"}})
        r = self.run_flow(flow, {"img": "pic.png"})["result"]
        self.assertEqual(r["status"], "Completed", r.get("error"))
        o = r["outputs"]["o"]
        self.assertEqual(o["same"], {"data:image/png;base64": b64(PNG)})
        self.assertEqual(o["new"], {"data:image/jpeg;base64": b64(PNG[::-1])})
        node = next(n for n in r["detail"]["node_runs"] if n["node"] == "f")
        self.assertEqual(node["inputs"]["img"], {"data:image/png;base64": b64(PNG)})
        url = self.base + "/images/x.png"
        r = self.run_flow(flow, {"img": url})["result"]
        self.assertEqual(r["outputs"]["o"]["same"], {"data:image/png;url": url})

    def test_the_gpt4v_tool_sends_an_image_input_as_an_image_url_part(self):
        node = {"name": "v", "type": "custom_llm", "inputs": {"connection": "oa", "picture": "${inputs.img}"},
                "source": {"type": "package_with_prompt", "tool": "promptflow.tools.openai_gpt4v.OpenAI.chat",
                           "path": "vision.jinja2"}}
        flow = flow_of(node, inputs={"img": {"type": "image"}}, outputs={"a": {"reference": "${v.output}"}})
        conns = {"oa": {"type": "OpenAIConnection", "api_key": KEY, "base_url": self.base + "/v1"}}
        r = self.run_flow(flow, {"img": {"data:image/png;path": "pic.png"}}, connections=conns)["result"]
        self.assertEqual(r["status"], "Completed", r.get("error"))
        parts = Stub.requests[-1]["body"]["messages"][0]["content"]
        self.assertEqual(parts[0], {"type": "text", "text": "What is this?"})
        self.assertEqual(parts[1], {"type": "image_url",
                                    "image_url": {"url": "data:image/png;base64," + b64(PNG), "detail": "auto"}})
        self.assertNotIn(KEY, json.dumps(r))

    def test_a_node_run_gets_its_image_inputs_and_upstream_images_as_images(self):
        flow = flow_of(py_node("f", "flip.py", {"img": "${inputs.img}"}),
                       py_node("d", "describe.py", {"img": "${f.output.new}", "many": "${inputs.many}"}),
                       inputs={"img": {"type": "image", "default": "pic.png"}, "many": {"type": "list", "default": []}})
        r = self.run_flow(flow, node="f")["result"]
        self.assertEqual(r["status"], "Completed", r.get("error"))
        self.assertEqual(r["outputs"]["f"]["same"], {"data:image/png;base64": b64(PNG)})
        upstream = {"f": {"new": {"data:image/jpeg;base64": b64(JPEG)}}}
        r = self.run_flow(flow, {"many": [{"data:image/png;path": "pic.png"}]}, node="d", nodeOutputs=upstream)["result"]
        self.assertEqual(r["status"], "Completed", r.get("error"))
        self.assertEqual((r["outputs"]["d"]["mime"], r["outputs"]["d"]["many"]), ("image/jpeg", ["Image:image/png"]))

    def test_a_chat_with_images_in_list_inputs_and_history_as_prompt_flows_chat_with_image_example(self):
        self.files({"chat.jinja2": "# system:\nYou are a helpful assistant.\n\n{% for item in chat_history %}\n# user:\n"
                                   "{{item.inputs.question}}\n# assistant:\n{{item.outputs.answer}}\n{% endfor %}\n\n"
                                   "# user:\n{{question}}"})
        node = {"name": "chat", "type": "custom_llm", "inputs": {
            "connection": "oa", "model": "gpt-4o", "max_tokens": 20,
            "chat_history": "${inputs.chat_history}", "question": "${inputs.question}"},
            "source": {"type": "package_with_prompt", "tool": "promptflow.tools.openai_gpt4v.OpenAI.chat",
                       "path": "chat.jinja2"}}
        flow = flow_of(node, inputs={"chat_history": {"type": "list", "is_chat_history": True},
                                     "question": {"type": "list", "is_chat_input": True}},
                       outputs={"answer": {"reference": "${chat.output}", "is_chat_output": True}})
        conns = {"oa": {"type": "OpenAIConnection", "api_key": KEY, "base_url": self.base + "/v1"}}
        url = self.base + "/images/logo.png"
        history = [{"inputs": {"question": ["What is this?", {"data:image/png;path": "pic.png"}]},
                    "outputs": {"answer": "A picture."}}]
        r = self.run_flow(flow, {"chat_history": history,
                                 "question": ["How many colors?", {"data:image/png;url": url}]}, connections=conns)
        r = r["result"]
        self.assertEqual(r["status"], "Completed", r.get("error"))
        messages = Stub.requests[-1]["body"]["messages"]
        self.assertEqual([m["role"] for m in messages], ["system", "user", "assistant", "user"])
        self.assertEqual(messages[1]["content"], [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64," + b64(PNG), "detail": "auto"}}])
        self.assertEqual(messages[2]["content"], "A picture.")
        self.assertEqual(messages[3]["content"], [
            {"type": "text", "text": "How many colors?"},
            {"type": "image_url", "image_url": {"url": url, "detail": "auto"}}])
