"""A prompty's template made into what the API takes: chat messages (role lines split as prompt flow's
build_messages does, list inputs one item a line, role lines inside an input's text kept in its message, images
sent as `image_url` content parts) or a completion prompt."""
import base64
import re
import uuid

from . import images as images_mod, llm, templates

_ROLE_LINE = re.compile(r"(?i)^\s*#?\s*(" + "|".join(llm.VALID_ROLES) + r")\s*:\s*\n", re.M)


def build_messages(template, inputs):
    """The chat messages of the rendered template. As prompt flow's convert_prompt_template does, `![image]({{x}})`
    puts the image on a line of its own, and a message line that is an input image's text (`Image(<hash>)`) becomes
    that image as an `image_url` part; a message with images is sent as a list of parts, one text part a line."""
    shown = {}
    _find_images(inputs, shown)
    variables, table = _escape_roles(_chat_lists(inputs))
    messages = llm.parse_chat(templates.render(_own_line_images(template), variables))
    if shown:
        messages = [_with_image_parts(m, shown) for m in messages]
    return _unescape(messages, table) if table else messages


def render_prompt(template, inputs):
    """The rendered template as a completion prompt."""
    return templates.render(_own_line_images(template), _chat_lists(inputs))


def _own_line_images(template):
    """`![image]({{ x }})` as `{{ x }}` on a line of its own (prompt flow's preprocess_template_string)."""
    return templates.IMAGE_PLACEHOLDER.sub(lambda m: "\n{{%s}}\n" % m.group(2), template)


def _find_images(value, found):
    """Each image among the inputs (in lists and dicts too), by the text it renders as."""
    if images_mod.is_image(value):
        found[str(value)] = value
    elif isinstance(value, (list, tuple)):
        for v in value:
            _find_images(v, found)
    elif isinstance(value, dict):
        for v in value.values():
            _find_images(v, found)


def _image_url(image):
    """Where the model reads an image: the URL it came from, else its bytes as a data URL."""
    return getattr(image, "source_url", None) or "data:%s;base64,%s" % (
        image._mime_type, base64.b64encode(image).decode())


def _with_image_parts(message, shown):
    """prompt flow's to_content_str_or_list: the message as parts when a line of it is an image, else unchanged."""
    content = message.get("content")
    if not isinstance(content, str):
        return message
    lines = content.strip().split("\n")
    if not any(line.strip() in shown for line in lines):
        return message
    parts = []
    for line in lines:
        if line.strip() in shown:
            parts.append({"type": "image_url", "image_url": {"url": _image_url(shown[line.strip()]), "detail": "auto"}})
        elif line.strip():
            parts.append({"type": "text", "text": line})
    return dict(message, content=parts)


class ChatInputList(list):
    """A list input renders one item a line in the template, as prompt flow's ChatInputList does."""

    def __str__(self):
        return "\n".join(map(str, self))


def _chat_lists(value):
    if isinstance(value, dict):
        return {k: _chat_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        return ChatInputList(_chat_lists(v) for v in value)
    return value


def _escape_roles(inputs):
    """Inputs whose text holds role lines (`user:`), with those role words replaced by unique tokens, and the table
    to put them back: an input's text must not split the chat prompt (prompt flow's build_escape_dict)."""
    table = {}

    def collect(v):
        if isinstance(v, str):
            for role in _ROLE_LINE.findall(v):
                table.setdefault(role, "fs-role-%s" % uuid.uuid4().hex)
        elif isinstance(v, list):
            for item in v:
                collect(item)

    def escape(v):
        if isinstance(v, str):
            for role, token in table.items():
                v = v.replace(role, token)
            return v
        if isinstance(v, ChatInputList):
            return ChatInputList(escape(i) for i in v)
        return v

    for value in inputs.values():
        collect(value)
    if not table:
        return inputs, table
    return {k: escape(v) for k, v in inputs.items()}, table


def _unescape(value, table):
    if isinstance(value, str):
        for role, token in table.items():
            value = value.replace(token, role)
        return value
    if isinstance(value, list):
        return [_unescape(v, table) for v in value]
    if isinstance(value, dict):
        return {k: _unescape(v, table) for k, v in value.items()}
    return value
