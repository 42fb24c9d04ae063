"""jinja2 templates: inputs as prompt flow derives them, rendering as the prompt tool does."""
import functools
import re

from .wire import RuntimeFailure

# `![image]({{ x }})`: prompt flow takes `x` as an image input of the template
IMAGE_PLACEHOLDER = re.compile(r"!\[(\s*image\s*)\]\(\{\{(\s*[^\s{}]+\s*)\}\}\)")

try:
    import jinja2
    from jinja2 import meta as _meta
except ImportError:  # rare bases without jinja2: python tools still work
    jinja2 = None
    _meta = None


def require_jinja():
    if jinja2 is None:
        raise RuntimeFailure(
            "Jinja2NotInstalled",
            "The jinja2 package is not installed in this session, and prompt and llm tools need it. "
            "Install it into the session (Flow Session: Install Packages… jinja2) or add it to requirements.txt.")


def template_inputs(text):
    """Undeclared variables in order of first appearance (prompt flow sorts by text.find)."""
    require_jinja()
    ast = jinja2.Environment().parse(text)
    names = _meta.find_undeclared_variables(ast)
    return sorted(names, key=lambda x: (text.find(x), x))


def image_variables(text):
    """The variables a template shows as images (`![image]({{ x }})`), as prompt flow types them image."""
    return [m.group(2).strip() for m in IMAGE_PLACEHOLDER.finditer(text)]


def is_syntax_error(exc):
    return jinja2 is not None and isinstance(exc, jinja2.TemplateSyntaxError)


def render(template_text, variables):
    """The template rendered with `variables`, a dict: any name is a variable, including `text` and `template_text`."""
    require_jinja()
    try:
        return _compiled(template_text).render(variables)
    except Exception as e:
        raise JinjaTemplateError(
            "Failed to render jinja template: %s: %s. Please modify your prompt to fix the issue."
            % (type(e).__name__, e))


def precompile(template_text):
    """Compiles the template into the cache render uses (before a batch forks its workers, so each inherits it); a
    template that does not compile is left for render to report on the line."""
    if jinja2 is not None:
        try:
            _compiled(template_text)
        except Exception:
            pass


class JinjaTemplateError(Exception):
    pass


@functools.lru_cache(maxsize=128)
def _compiled(template_text):
    # a batch renders the same template on every line: compiling it is most of the cost of a render
    return jinja2.Template(template_text, trim_blocks=True, keep_trailing_newline=True)
