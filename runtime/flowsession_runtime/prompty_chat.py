"""A prompty's template made into what the API takes: chat messages (role lines split as prompt flow's
build_messages does, list inputs one item a line, role lines inside an input's text kept in its message) or a
completion prompt."""
import re
import uuid

from . import llm, templates

_ROLE_LINE = re.compile(r"(?i)^\s*#?\s*(" + "|".join(llm.VALID_ROLES) + r")\s*:\s*\n", re.M)


def build_messages(template, inputs):
    """The chat messages of the rendered template."""
    variables, table = _escape_roles(_chat_lists(inputs))
    messages = llm.parse_chat(templates.render(template, variables))
    return _unescape(messages, table) if table else messages


def render_prompt(template, inputs):
    """The rendered template as a completion prompt."""
    return templates.render(template, _chat_lists(inputs))


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
