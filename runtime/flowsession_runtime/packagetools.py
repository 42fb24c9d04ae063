"""Package tools (`source: {type: package, tool: <id>}`): found and described as prompt flow does, then loaded.

A tool id is an import path, `pkg.module.function` or `pkg.module.Class.method`. Its metadata comes from the
`package_tools` entry point of the package that declares it, else from the code's signature; the code is the
truth, so an id also resolves by import alone. promptflow-tools' embedding and gpt4v tools fall back to the
runtime's own (builtin_tools) when that package is not installed.
"""
import enum
import functools
import importlib
import importlib.metadata
import inspect
import sys

from . import toolmeta
from .wire import RuntimeFailure

ENTRY_POINT_GROUP = "package_tools"
SOURCE_TYPES = ("package", "package_with_prompt")
# well-known tool ids and the package that provides them, for the message of a tool that is not installed
# (the retired content_safety_text ids run as promptflow-tools' azure_content_safety, which lists them as deprecated)
KNOWN_PROVIDERS = (("promptflow.tools.", "promptflow-tools"), ("promptflow_vectordb.", "promptflow-vectordb"),
                   ("my_tool_package.", "my-tools-package"), ("content_safety_text.", "promptflow-tools"))
_SETTING_FIELDS = ("enabled_by", "enabled_by_value", "allow_manual_entry", "is_multi_select", "input_type",
                   "ui_hints")


class PackageTool:
    """One tool: `meta` as flow.tools.json lists it, and the code behind it."""

    def __init__(self, tool_id, meta, module, class_name, function):
        self.id = tool_id
        self.meta = meta
        self.module = module
        self.class_name = class_name
        self.function = function
        self.owner = getattr(module, class_name) if class_name else None
        self.func = getattr(self.owner if self.owner is not None else module, function)

    def init_params(self):
        """The class tool's `__init__` parameters (node inputs given once, when the instance is made)."""
        if self.owner is None:
            return {}
        params = inspect.signature(self.owner.__init__).parameters
        return {k: p for k, p in params.items() if k != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}

    def call_params(self):
        original = getattr(self.func, "__original_function", self.func)
        return inspect.signature(original).parameters

    def param_names(self):
        """Every named parameter a node may give: the call's and, for a class tool, `__init__`'s."""
        names = [k for k, p in self.call_params().items() if k != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        return names + [k for k in self.init_params() if k not in names]

    def accepts_kwargs(self):
        return any(p.kind == p.VAR_KEYWORD for p in self.call_params().values())

    def prompt_param(self):
        """The parameter a custom_llm tool takes its prompt template in: typed PromptTemplate, else `prompt`."""
        for name, p in self.call_params().items():
            if getattr(p.annotation, "__name__", None) == "PromptTemplate":
                return name
        return "prompt" if "prompt" in self.call_params() else None

    def bind(self, init_values):
        """The callable for one run: the function, or a new instance's method (prompt flow's errors otherwise)."""
        if self.owner is None:
            return self.func
        required = [k for k, p in self.init_params().items() if p.default is inspect.Parameter.empty]
        missing = [k for k in required if k not in init_values]
        if missing:
            raise RuntimeFailure("MissingRequiredInputs", "Required inputs %s are not provided for tool '%s'."
                                 % (missing, self.meta.get("name") or self.id))
        try:
            instance = self.owner(**init_values)
        except Exception as e:
            raise RuntimeFailure("ToolLoadError", "Failed to load package tool '%s': (%s) %s"
                                 % (self.meta.get("name") or self.id, type(e).__name__, e))
        return getattr(instance, self.function)


class Catalog:
    """The package tools of this process's environment; the entry points are read once, when first asked."""

    def __init__(self):
        self._declared = None

    def declared(self):
        if self._declared is None:
            self._declared = collect_entry_points()
        return self._declared

    def find(self, tool_id):
        if not isinstance(tool_id, str) or not tool_id:
            raise RuntimeFailure("PackageToolNotFoundError", "The package tool of the node is not named: set "
                                 "'source.tool' to the tool's id (package.module.function).")
        declared = self.declared().get(tool_id)
        if declared is not None:
            meta, module = declared
            try:
                tool = PackageTool(tool_id, meta, module, meta.get("class_name"), meta.get("function"))
            except (AttributeError, TypeError) as e:
                raise load_failure(tool_id, e)
            if not isinstance(meta.get("inputs"), dict):
                meta["inputs"] = signature_inputs(tool)
            return tool
        renamed = self.replacement_of(tool_id)
        if renamed is not None:
            return self.find(renamed)
        tool = _by_import(tool_id)
        if tool is None:
            from . import builtin_tools
            tool = builtin_tools.find(tool_id)
        if tool is None:
            raise not_found(tool_id, sorted(self.declared()))
        return tool


    def replacement_of(self, tool_id):
        """The tool that lists `tool_id` among its `deprecated_tools` (prompt flow runs an old id as its successor)."""
        for new_id, (meta, _module) in self.declared().items():
            old = meta.get("deprecated_tools")
            if isinstance(old, list) and tool_id in old and new_id != tool_id:
                return new_id
        return None


def apply_node_connection(node, tool):
    """A node-level `connection:` (custom_llm nodes of real flows carry one) fills the tool's connection input when
    the node's inputs do not give it, as prompt flow passes it."""
    if not isinstance(node.connection, str) or not node.connection:
        return
    for name, spec in (tool.meta.get("inputs") or {}).items():
        types = spec.get("type") if isinstance(spec, dict) else None
        if isinstance(types, list) and (any(t in toolmeta.CONNECTION_CLASSES for t in types) or spec.get("custom_type")):
            if name not in node.inputs:
                node.inputs = dict(node.inputs, **{name: node.connection})
                node.refs = dict(node.refs, **{name: None})
            return


def not_found(tool_id, available):
    message = ("Package tool '%s' is not found in the current environment. All available package tools are: %s."
               % (tool_id, available))
    provider = next((pkg for prefix, pkg in KNOWN_PROVIDERS if tool_id.startswith(prefix)), None)
    if provider:
        message += (" The tool comes from the package '%s': add it to the flow's requirements.txt (or install it "
                    "into the session)." % provider)
    return RuntimeFailure("PackageToolNotFoundError", message)


def _entry_points():
    found = importlib.metadata.entry_points()
    if hasattr(found, "select"):
        return found.select(group=ENTRY_POINT_GROUP)
    return found.get(ENTRY_POINT_GROUP, [])


def collect_entry_points():
    """{tool id: (metadata, module)} from every installed package's `package_tools` entry point.

    As in prompt flow, a package whose listing or module fails to load is left out, with a warning on stderr.
    """
    tools = {}
    for entry in _entry_points():
        dist = getattr(entry, "dist", None)
        package = dist.metadata["Name"] if dist is not None else entry.value.split(":")[0]
        try:
            listed = entry.load()()
            for tool_id, meta in listed.items():
                meta = dict(meta)
                module = importlib.import_module(meta["module"])
                meta["package"] = package
                if dist is not None:
                    meta["package_version"] = dist.version
                tools[tool_id] = (meta, module)
        except Exception as e:
            sys.stderr.write("Failed to load tools from package %s: (%s) %s\n" % (package, type(e).__name__, e))
    return tools


def _missing_module(e, module_name):
    """True when the ModuleNotFoundError is about module_name itself (or a parent), not one it imports."""
    name = getattr(e, "name", None) or ""
    return module_name == name or module_name.startswith(name + ".")


def _by_import(tool_id):
    """The tool from the code alone: the longest importable module prefix, then a function or Class.method."""
    parts = tool_id.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module_name, rest = ".".join(parts[:cut]), parts[cut:]
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if _missing_module(e, module_name):
                continue
            raise load_failure(tool_id, e)
        except Exception as e:
            raise load_failure(tool_id, e)
        class_name, function = (None, rest[0]) if len(rest) == 1 else (rest[0], rest[1]) if len(rest) == 2 else (
            None, None)
        owner = getattr(module, class_name, None) if class_name else module
        if function is None or owner is None or not callable(getattr(owner, function, None)):
            return None
        tool = PackageTool(tool_id, {}, module, class_name, function)
        tool.meta.update(signature_meta(tool))
        return tool
    return None


def load_failure(tool_id, e):
    return RuntimeFailure("ToolLoadError", "Failed to load package tool '%s': (%s) %s" % (tool_id, type(e).__name__, e))


def signature_meta(tool):
    """prompt flow's metadata for a tool from its decorator and signature (no entry point declares it)."""
    func, original = tool.func, getattr(tool.func, "__original_function", tool.func)
    tool_type = getattr(func, "__type", None) or "python"
    meta = {"name": getattr(func, "__name", None) or tool.function,
            "type": tool_type.value if isinstance(tool_type, enum.Enum) else str(tool_type),
            "inputs": signature_inputs(tool), "module": tool.module.__name__, "function": tool.function}
    if tool.class_name:
        meta["class_name"] = tool.class_name
    description = getattr(func, "__description", None) or inspect.getdoc(original)
    if description:
        meta["description"] = description
    extra = getattr(func, "__extra_info", None)
    if isinstance(extra, dict):
        meta.update({k: v for k, v in extra.items() if k in ("icon", "category", "tags")})
    return meta


def signature_inputs(tool):
    params = list(tool.init_params().values()) + [
        p for k, p in tool.call_params().items() if k != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    inputs = {p.name: toolmeta.input_definition(p) for p in params}
    settings = getattr(tool.func, "__input_settings", None)
    for name, setting in (settings or {}).items() if isinstance(settings, dict) else ():
        if name in inputs:
            inputs[name].update(_setting_fields(setting))
    return inputs


def _setting_fields(setting):
    get = setting.get if isinstance(setting, dict) else functools.partial(getattr, setting)
    out = {}
    for field in _SETTING_FIELDS:
        value = get(field, None)
        if value is not None:
            out[field] = value.value if isinstance(value, enum.Enum) else value
    dynamic = get("dynamic_list", None)
    if dynamic is not None:
        out["dynamic_list"] = dynamic_list_meta(dynamic)
    return out


def dynamic_list_meta(dynamic):
    """`{func_path, func_kwargs}`: the function listing an input's choices, and where its arguments come from."""
    func = dynamic.get("function") if isinstance(dynamic, dict) else getattr(dynamic, "function", None)
    mapping = (dynamic.get("input_mapping") if isinstance(dynamic, dict) else getattr(dynamic, "input_mapping", None))
    mapping = mapping or {}
    if isinstance(func, str):
        return {"func_path": func, "func_kwargs": []}
    kwargs = []
    for name, p in inspect.signature(func).parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        arg = {"name": name, "type": toolmeta.input_definition(p)["type"],
               "optional": p.default is not inspect.Parameter.empty}
        if p.default is not inspect.Parameter.empty and p.default is not None:
            arg["default"] = p.default
        if name in mapping:
            arg["reference"] = "${inputs.%s}" % mapping[name]
        kwargs.append(arg)
    return {"func_path": "%s.%s" % (func.__module__, func.__qualname__), "func_kwargs": kwargs}


def disabled(spec, node_inputs):
    """True when a cascading input is switched off by the input that enables it (so it is not required)."""
    by = spec.get("enabled_by")
    if not by:
        return False
    if spec.get("enabled_by_type"):
        return True  # decided by the connection's type, unknown before the connection is resolved
    values = spec.get("enabled_by_value")
    if values is None:
        return not node_inputs.get(by)
    return node_inputs.get(by) not in (values if isinstance(values, list) else [values])
