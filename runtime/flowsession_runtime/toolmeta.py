"""Tool metadata as prompt flow derives it: python @tool signatures and jinja2 template inputs."""
import enum
import importlib.util
import inspect
import os
import traceback
import types
import typing

from . import templates
from .wire import RuntimeFailure

MODULE_NAME = "__pf_main__"  # prompt flow loads tool scripts under this name
CONNECTION_CLASSES = {
    "OpenAIConnection", "AzureOpenAIConnection", "CustomConnection", "SerpConnection", "QdrantConnection",
    "CognitiveSearchConnection", "FormRecognizerConnection", "AzureContentSafetyConnection",
    "WeaviateConnection", "ServerlessConnection", "AzureAIServicesConnection",
}
_EMPTY = inspect.Parameter.empty


class ToolProblem(RuntimeFailure):
    """A metadata error placed in a file: (file, line, column, endLine, endColumn), 1-based, end exclusive."""

    def __init__(self, code, message, file, line=1, column=1, end_line=None, end_column=None):
        super().__init__(code, message)
        self.file = file
        self.line = line
        self.column = column
        self.end_line = end_line if end_line is not None else line
        self.end_column = end_column if end_column is not None else column + 1

    def to_problem(self, severity="error"):
        return {"code": self.code, "message": self.message, "severity": severity, "file": self.file,
                "line": self.line, "column": self.column, "endLine": self.end_line, "endColumn": self.end_column}


def rel(path, flow_dir):
    return os.path.relpath(path, flow_dir).replace(os.sep, "/")


def inside(path, flow_dir):
    try:
        path = os.path.realpath(path)
    except (TypeError, ValueError):
        return False
    return path == flow_dir or path.startswith(flow_dir.rstrip(os.sep) + os.sep)


def read_lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return []


def line_span(path, line):
    """Columns of a line's text, first non-blank to end, so the squiggle covers the statement."""
    lines = read_lines(path)
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    stripped = text.rstrip()
    start = len(stripped) - len(stripped.lstrip()) + 1
    return start, max(len(stripped) + 1, start + 1) if stripped else start + 1


def resolve_source(flow_dir, node_name, path):
    """Absolute path of a node source inside the flow folder, or InvalidSource."""
    full = os.path.realpath(os.path.join(flow_dir, path)) if isinstance(path, str) and path else None
    if full is None or not inside(full, flow_dir) or not os.path.isfile(full):
        raise RuntimeFailure("InvalidSource", "Node source path '%s' is invalid on node '%s'." % (path, node_name),
                             node=node_name)
    return full


# -- python ------------------------------------------------------------------------------------

def load_module(full, flow_dir):
    """Import a tool script fresh; syntax errors -> PythonParsingError, others -> PythonLoadError."""
    rel_path = rel(full, flow_dir)
    with open(full, "rb") as f:
        source = f.read()
    try:
        code = compile(source, full, "exec", dont_inherit=True)
    except SyntaxError as e:
        line = e.lineno or 1
        col = e.offset or 1
        end_line = getattr(e, "end_lineno", None) or line
        end_col = getattr(e, "end_offset", None) or 0
        if end_line == line and end_col <= col:
            end_col = col + 1
        raise ToolProblem("PythonParsingError", "Failed to load python module. Python parsing failed: (%s) %s"
                          % (type(e).__name__, e), rel_path, line, col, end_line, end_col)
    spec = importlib.util.spec_from_file_location(MODULE_NAME, full)
    module = importlib.util.module_from_spec(spec)
    try:
        exec(code, module.__dict__)
    except BaseException as e:  # noqa: B902 - SystemExit at import is a load error, not a crash
        raise load_error(e, full, flow_dir)
    return module


def load_error(e, full, flow_dir):
    """PythonLoadError placed on the innermost traceback frame inside the flow folder."""
    rel_path = rel(full, flow_dir)
    message = "Failed to load python module from file '%s': (%s) %s%s" % (rel_path, type(e).__name__, e,
                                                                          missing_module_remedy(e, flow_dir))
    where_file, where_line = full, 1
    if isinstance(e, SyntaxError) and e.filename and inside(e.filename, flow_dir):
        where_file, where_line = e.filename, e.lineno or 1
    else:
        frames = [f for f in traceback.extract_tb(e.__traceback__) if inside(f.filename, flow_dir)]
        if frames:
            where_file, where_line = frames[-1].filename, frames[-1].lineno or 1
    start, end = line_span(where_file, where_line)
    problem = ToolProblem("PythonLoadError", message, rel(where_file, flow_dir), where_line, start, where_line, end)
    problem.detail = user_traceback(e, flow_dir)
    return problem


def missing_module_remedy(e, flow_dir):
    """What to do about a module the session does not have (nothing for other errors or the flow's own modules):
    prompt flow's message says which module; in a session the package is installed differently than on a laptop."""
    name = getattr(e, "name", None) if isinstance(e, ModuleNotFoundError) else None
    if not name:
        return ""
    top = name.split(".")[0]
    if os.path.exists(os.path.join(flow_dir, top)) or os.path.exists(os.path.join(flow_dir, top + ".py")):
        return ""
    if top == "promptflow":
        return (". The session's built-in prompt flow API has no '%s': install the promptflow package that has it "
                "(list it in requirements.txt, with a package index the session reaches, and reset the session)."
                % name)
    return (". The session has no package that provides '%s': list it in requirements.txt and reset the session, "
            "or install it with \"Install Packages…\" (flowsession session install <flow> <package>)." % top)


def user_traceback(e, flow_dir):
    frames = [f for f in traceback.extract_tb(e.__traceback__) if inside(f.filename, flow_dir)]
    lines = ["Traceback (most recent call last):\n"]
    for f in frames:
        lines.append('  File "%s", line %s, in %s\n' % (rel(f.filename, flow_dir), f.lineno, f.name))
        if f.line:
            lines.append("    %s\n" % f.line.strip())
    lines.append("%s: %s\n" % (type(e).__name__, e))
    return "".join(lines)


def is_tool(obj):
    return isinstance(obj, types.FunctionType) and hasattr(obj, "__tool")


def find_tool(module, full, flow_dir):
    tools = [obj for _, obj in inspect.getmembers(module)
             if is_tool(obj) and getattr(obj, "__module__", "") == module.__name__]
    rel_path = rel(full, flow_dir)
    if not tools:
        start, end = line_span(full, 1)
        raise ToolProblem("NoToolDefined", "No tool found in the python script. Please make sure you have one and "
                          "only one tool definition in your script.", rel_path, 1, 1, 1, max(end, 2))
    if len(tools) > 1:
        names = ", ".join(t.__name__ for t in tools)
        message = ("Expected 1 but collected %d tools: %s. Please make sure you have one and only one tool "
                   "definition in your script." % (len(tools), names))
        problems = [_def_problem(message, t, full, rel_path) for t in tools]
        err = problems[0]
        err.all = problems
        raise err
    return tools[0]


def _def_problem(message, func, full, rel_path):
    original = getattr(func, "__original_function", func)
    first = getattr(getattr(original, "__code__", None), "co_firstlineno", 1)
    lines = read_lines(full)
    line = first
    # co_firstlineno is the first decorator; the squiggle belongs on the def line.
    for i in range(first - 1, min(len(lines), first + 20)):
        s = lines[i].lstrip()
        if s.startswith("def ") or s.startswith("async def "):
            line = i + 1
            break
    start, end = line_span(full, line)
    return ToolProblem("MultipleToolsDefined", message, rel_path, line, start, line, end)


# prompt flow's marker string types (promptflow.contracts.types) and the value types they stand for
MARKER_TYPES = {"FilePath": "file_path", "PromptTemplate": "prompt_template", "Secret": "secret", "Image": "image"}


def _value_type(t):
    if t is bool:
        return "bool"
    if isinstance(t, type) and t.__name__ in MARKER_TYPES and (t.__module__ or "").startswith("promptflow"):
        return MARKER_TYPES[t.__name__]
    return {int: "int", float: "double", str: "string", list: "list", dict: "object"}.get(t, "object")


def _is_connection(t):
    if not isinstance(t, type):
        return None
    mro_names = [b.__name__ for b in t.__mro__[1:]]
    if "CustomStrongTypeConnection" in mro_names:
        return ["CustomConnection"], [t.__name__]
    if t.__name__ in CONNECTION_CLASSES and (t.__module__ or "").startswith("promptflow"):
        return [t.__name__], None
    return None


def resolve_annotation(anno):
    """The one type an Optional[...] stands for; a list of types for a wider Union."""
    if typing.get_origin(anno) is typing.Union:
        args = [a for a in typing.get_args(anno) if a is not type(None)]
        return args[0] if len(args) == 1 else args
    return anno


def _default_str(v):
    if v is None:
        return ""
    if isinstance(v, enum.Enum):
        return v.value
    return str(v)


def input_definition(param):
    """prompt flow's param_to_definition, as a flow.tools.json input entry."""
    anno = resolve_annotation(param.annotation)
    default = param.default
    if default is not _EMPTY and anno is _EMPTY:
        anno = type(default)
    enum_values = None
    if isinstance(anno, enum.EnumMeta):
        enum_values = [str(o.value) for o in anno]
        anno = str
    custom_type = None
    conn = _is_connection(anno)
    if conn:
        typ, custom_type = conn
    elif isinstance(anno, list):
        conns = [_is_connection(a) for a in anno]
        typ = [c[0][0] for c in conns] if conns and all(conns) else ["object"]
    else:
        typ = [_value_type(anno)]
    d = {"type": typ}
    if default is not _EMPTY:
        d["default"] = _default_str(default)
    if enum_values:
        d["enum"] = enum_values
    if custom_type:
        d["custom_type"] = custom_type
    return d


def python_meta(full, flow_dir):
    """(meta for flow.tools.json, tool function, accepts **kwargs)."""
    module = load_module(full, flow_dir)
    func = find_tool(module, full, flow_dir)
    original = getattr(func, "__original_function", func)
    sig = inspect.signature(original)
    inputs, kwargs = {}, False
    for name, p in sig.parameters.items():
        if name == "self" or p.kind == p.VAR_POSITIONAL:
            continue
        if p.kind == p.VAR_KEYWORD:
            kwargs = True
            continue
        inputs[name] = input_definition(p)
    meta = {"type": "python", "inputs": inputs}
    description = getattr(func, "__description", None) or inspect.getdoc(original)
    if description:
        meta["description"] = description
    meta["source"] = rel(full, flow_dir)
    meta["function"] = original.__name__
    return meta, func, kwargs


# -- prompt / llm ------------------------------------------------------------------------------

def read_template(full):
    with open(full, encoding="utf-8") as f:
        return f.read()


def template_meta(full, flow_dir, tool_type):
    rel_path = rel(full, flow_dir)
    text = read_template(full)
    try:
        names = templates.template_inputs(text)
    except RuntimeFailure as e:
        raise ToolProblem(e.code, e.message, rel_path, 1, 1, 1, 2)
    except Exception as e:
        if templates.is_syntax_error(e):
            line = e.lineno or 1
            start, end = line_span(full, line)
            raise ToolProblem("JinjaParsingError", "Generate tool meta failed for %s tool. Jinja parsing failed at "
                              "line %d: (%s) %s" % (tool_type, line, type(e).__name__, e.message or e),
                              rel_path, line, start, line, end)
        raise ToolProblem("JinjaParsingError", "Generate tool meta failed for %s tool. Jinja parsing failed: (%s) %s"
                          % (tool_type, type(e).__name__, e), rel_path, 1, 1, 1, 2)
    return {"type": tool_type, "inputs": {n: {"type": ["string"]} for n in names}, "source": rel_path}
