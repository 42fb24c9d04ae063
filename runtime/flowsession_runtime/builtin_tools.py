"""promptflow-tools' embedding and GPT-4V tools, for sessions without that package: the same ids, inputs and
results, over the llm tool's HTTP and connection code. When promptflow-tools is installed, its own tools win."""
import base64
import mimetypes
import os
import re
import sys

from . import llm, templates

TIMEOUT_SECONDS = 600.0
_IMAGE_MD = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_DETAILS = ["low", "high", "auto"]
_EMBEDDING_MODELS = ["text-embedding-ada-002", "text-search-ada-doc-001", "text-search-ada-query-001"]


def _unchanged(text):
    return text  # the executor redacts the messages of the errors these tools raise


def embedding(connection, input, deployment_name="", model="text-embedding-ada-002"):
    spec = llm.connection_spec(connection)
    name = getattr(connection, "name", None)
    url, headers, target = llm.endpoint(spec, name, "embeddings", deployment_name, model, "The embedding tool")
    response = llm.post(url, dict(target, input=input), headers, TIMEOUT_SECONDS, name, _unchanged)
    try:
        return response["data"][0]["embedding"]
    except (KeyError, IndexError, TypeError):
        raise llm.LLMError("OpenAI API returned an unexpected embeddings response.")


class _VisionChat:
    """The chat of the GPT-4V tools: the prompt template rendered, its markdown images sent as image parts."""

    WHO = "The GPT-4V tool"

    def __init__(self, connection):
        self._connection = connection

    def _chat(self, prompt, deployment_name, model, detail, params, variables):
        # as promptflow-tools does: `![image]({{x}})` puts the image on a line of its own, lists render one item a
        # line, and a line that is an image's text (`Image(<hash>)`) becomes that image
        images = {}
        rendered = templates.render(_own_line_images(prompt), {k: _chat_value(v, images) for k, v in variables.items()})
        messages = [_with_images(m, detail, images) for m in llm.parse_chat(rendered)]
        name = getattr(self._connection, "name", None)
        spec = llm.connection_spec(self._connection)
        url, headers, target = llm.endpoint(spec, name, "chat/completions", deployment_name, model, self.WHO)
        body = dict(target, messages=messages, n=1)
        body.update({k: v for k, v in params.items() if v is not None and v != ""})
        response = llm.post(url, body, headers, TIMEOUT_SECONDS, name, _unchanged)
        return (llm.first_choice(response, _unchanged).get("message") or {}).get("content") or ""


class AzureOpenAI(_VisionChat):
    def chat(self, prompt, deployment_name, temperature=1.0, top_p=1.0, stream=False, stop=None, max_tokens=None,
             presence_penalty=0, frequency_penalty=0, seed=None, detail="auto", **kwargs):
        params = {"temperature": temperature, "top_p": top_p, "stop": stop or None, "max_tokens": max_tokens,
                  "presence_penalty": presence_penalty, "frequency_penalty": frequency_penalty, "seed": seed}
        return self._chat(prompt, deployment_name, None, detail, params, kwargs)


class OpenAI(_VisionChat):
    def chat(self, prompt, model="gpt-4-vision-preview", temperature=1.0, top_p=1.0, stream=False, stop=None,
             max_tokens=None, presence_penalty=0, frequency_penalty=0, seed=None, detail="auto", **kwargs):
        params = {"temperature": temperature, "top_p": top_p, "stop": stop or None, "max_tokens": max_tokens,
                  "presence_penalty": presence_penalty, "frequency_penalty": frequency_penalty, "seed": seed}
        return self._chat(prompt, None, model, detail, params, kwargs)


def _own_line_images(template):
    """`![image]({{ x }})` as `{{ x }}` on a line of its own (promptflow-tools' preprocess_template_string)."""
    return templates.IMAGE_PLACEHOLDER.sub(lambda m: "\n{{%s}}\n" % m.group(2), template)


class _ChatList(list):
    """A list input as a chat prompt shows it: one item a line (promptflow-tools' ChatInputList)."""

    def __str__(self):
        return "\n".join(map(str, self))


def _is_image(value):
    return isinstance(value, bytes) and getattr(value, "_mime_type", None) is not None


def _chat_value(value, images):
    """A template variable as the prompt shows it; each image met is kept by the text it renders as."""
    if _is_image(value):
        images[str(value)] = value
        return value
    url = image_url(value)
    if url is not value:
        return url
    if isinstance(value, list):
        return _ChatList(_chat_value(v, images) for v in value)
    if isinstance(value, dict):
        return {k: _chat_value(v, images) for k, v in value.items()}
    return value


def image_url(value):
    """An image value (prompt flow's `{"data:image/png;path": …}` forms, or image bytes) as a URL; others as given."""
    if isinstance(value, dict) and len(value) == 1:
        key, inner = next(iter(value.items()))
        if isinstance(key, str) and key.startswith("data:image/") and isinstance(inner, str):
            kind = key.rsplit(";", 1)[-1]
            return "%s,%s" % (key, inner) if kind == "base64" else inner
    if _is_image(value):
        return getattr(value, "source_url", None) or "data:%s;base64,%s" % (
            value._mime_type, base64.b64encode(value).decode())
    return value


def _data_uri(ref):
    if re.match(r"^(https?:|data:)", ref):
        return ref
    path = os.path.abspath(ref)
    if not os.path.isfile(path):
        raise llm.LLMError("The image '%s' in the prompt is neither a URL nor a file of the flow folder." % ref)
    mime = mimetypes.guess_type(path)[0] or "image/png"
    with open(path, "rb") as f:
        return "data:%s;base64,%s" % (mime, base64.b64encode(f.read()).decode())


def _line_parts(line, detail, images):
    """A line of a message as content parts: an image's text, markdown images, else text."""
    text = line.strip()
    if text in images:
        return [{"type": "image_url", "image_url": {"url": image_url(images[text]), "detail": detail}}]
    parts, at = [], 0
    for m in _IMAGE_MD.finditer(line):
        before = line[at:m.start()].strip()
        if before:
            parts.append({"type": "text", "text": before})
        parts.append({"type": "image_url", "image_url": {"url": _data_uri(m.group(2)), "detail": detail}})
        at = m.end()
    if line[at:].strip():
        parts.append({"type": "text", "text": line[at:].strip()})
    return parts


def _with_images(message, detail, images):
    """A message whose content holds images as content parts, one text part a line (as promptflow-tools sends
    them); a message without images unchanged."""
    content = message.get("content")
    if not isinstance(content, str):
        return message
    lines = content.strip().split("\n")
    if not any(line.strip() in images or _IMAGE_MD.search(line) for line in lines):
        return message
    return dict(message, content=[part for line in lines for part in _line_parts(line, detail, images)])


def _chat_inputs(first, first_spec):
    inputs = {"connection": first_spec, first[0]: first[1]}
    inputs.update({
        "temperature": {"type": ["double"], "default": 1}, "top_p": {"type": ["double"], "default": 1},
        "max_tokens": {"type": ["int"], "default": 512}, "stop": {"type": ["list"], "default": ""},
        "presence_penalty": {"type": ["double"], "default": 0}, "frequency_penalty": {"type": ["double"], "default": 0},
        "seed": {"type": ["int"], "default": ""}, "detail": {"type": ["string"], "default": "auto", "enum": _DETAILS},
    })
    return inputs


# prompt flow's metadata of these tools (promptflow-tools' yamls), keyed by tool id: (meta, class name, function)
_TOOLS = {
    "promptflow.tools.embedding.embedding": ({
        "name": "Embedding", "type": "python", "module": "promptflow.tools.embedding", "function": "embedding",
        "description": "Use Open AI's embedding model to create an embedding vector representing the input text.",
        "inputs": {
            "connection": {"type": ["AzureOpenAIConnection", "OpenAIConnection", "ServerlessConnection"]},
            "deployment_name": {"type": ["string"], "enabled_by": "connection",
                                "enabled_by_type": ["AzureOpenAIConnection"]},
            "model": {"type": ["string"], "enabled_by": "connection", "enabled_by_type": ["OpenAIConnection"],
                      "enum": _EMBEDDING_MODELS, "allow_manual_entry": True},
            "input": {"type": ["string"]}}}, None, "embedding"),
    "promptflow.tools.aoai_gpt4v.AzureOpenAI.chat": ({
        "name": "Azure OpenAI GPT-4 Turbo with Vision", "type": "custom_llm", "module": "promptflow.tools.aoai_gpt4v",
        "class_name": "AzureOpenAI", "function": "chat",
        "description": "Use Azure OpenAI GPT-4 Turbo with Vision to leverage AOAI vision ability.",
        "inputs": _chat_inputs(("deployment_name", {"type": ["string"]}), {"type": ["AzureOpenAIConnection"]})},
        "AzureOpenAI", "chat"),
    "promptflow.tools.openai_gpt4v.OpenAI.chat": ({
        "name": "OpenAI GPT-4V", "type": "custom_llm", "module": "promptflow.tools.openai_gpt4v",
        "class_name": "OpenAI", "function": "chat", "description": "Use OpenAI GPT-4V to leverage vision ability.",
        "inputs": _chat_inputs(("model", {"type": ["string"], "default": "gpt-4-vision-preview",
                                          "enum": ["gpt-4-vision-preview"], "allow_manual_entry": True}),
                               {"type": ["OpenAIConnection"]})},
        "OpenAI", "chat"),
}


def find(tool_id):
    """The runtime's own version of a promptflow-tools tool, or None."""
    from .packagetools import PackageTool

    known = _TOOLS.get(tool_id)
    if known is None:
        return None
    meta, class_name, function = known
    return PackageTool(tool_id, dict(meta, inputs={k: dict(v) for k, v in meta["inputs"].items()}),
                       sys.modules[__name__], class_name, function)
