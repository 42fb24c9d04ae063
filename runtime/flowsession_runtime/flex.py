"""Flex flows (flow.flex.yaml: a Python function or class as the entry) and prompty files, made into the one
callable with keyword inputs that entry_executor runs: the entry imported, its signature read as prompt flow types
it, a class made from its init values, the flow's environment variables applied."""
import dataclasses
import importlib
import inspect
import json
import os
import re
import sys
import typing

from . import connections as conn_mod, inputs as inputs_mod, prompty as prompty_mod, toolmeta
from .entry_executor import AGGREGATE, EntryExecutor
from .wire import RuntimeFailure

_CONN_REF = re.compile(r"^\$\{([A-Za-z_][\w-]*)\.([A-Za-z_][\w.-]*)\}$")
_FILE_REF = re.compile(r"^\$\{file:(.+)\}$")
MODEL_CONFIGS = ("AzureOpenAIModelConfiguration", "OpenAIModelConfiguration")
_SIMPLE = {str: "string", int: "int", float: "double", bool: "bool", list: "list", dict: "object"}


class FlexProblem(RuntimeFailure):
    """A definition error of the entry (a complex type, a missing entry), with where it is when known."""

    def __init__(self, code, message, file=None, line=None):
        super().__init__(code, message)
        self.file = file
        self.line = line


def _is_typed_dict(t):
    return isinstance(t, type) and issubclass(t, dict) and hasattr(t, "__annotations__") and hasattr(t, "__total__")


def value_type(anno):
    """prompt flow's value type of an annotation; None for no annotation; raises for a complex python type."""
    if anno is inspect.Parameter.empty or anno is None:
        return None
    origin = typing.get_origin(anno)
    if origin is typing.Union:
        args = [a for a in typing.get_args(anno) if a is not type(None)]
        if len(args) == 1:
            return value_type(args[0])
        raise TypeError("a union type")
    if origin in (list, typing.List):
        return "list"
    if origin in (dict, typing.Dict):
        return "object"
    if anno in _SIMPLE:
        return _SIMPLE[anno]
    if _is_typed_dict(anno) or dataclasses.is_dataclass(anno):
        return "object"
    raise TypeError("a complex python type")


def _init_type(anno):
    name = getattr(anno, "__name__", "")
    if name in toolmeta.CONNECTION_CLASSES or name in MODEL_CONFIGS:
        return name
    if isinstance(anno, type) and "CustomStrongTypeConnection" in [b.__name__ for b in anno.__mro__[1:]]:
        return "CustomConnection"
    return None


def signature_ports(func, what, allow_init_types=False):
    """{name: {"type": t, "default": d}} of a signature's parameters (no self, *args, **kwargs)."""
    ports = {}
    for name, p in inspect.signature(func).parameters.items():
        if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        anno = p.annotation
        if isinstance(anno, str):
            anno = inspect.Parameter.empty  # a postponed annotation prompt flow cannot read either
        special = _init_type(anno) if allow_init_types else None
        if special:
            t = special
        else:
            try:
                t = value_type(anno)
            except TypeError as e:
                raise FlexProblem("FlexFlowSignatureError", (
                    "The %s '%s' is of %s (%s). Please use a dict instead." % (
                        what, name, e, getattr(anno, "__name__", str(anno)))))
        port = {"type": t}
        if p.default is not inspect.Parameter.empty:
            port["default"] = p.default
        ports[name] = port
    return ports


def resolve_file_refs(value, base_dir):
    """`${file:x.json}` in a flow's sample, read as JSON (prompt flow's resolve_references)."""
    if isinstance(value, str):
        m = _FILE_REF.match(value.strip())
        if m:
            path = os.path.join(base_dir, m.group(1))
            try:
                with open(path, encoding="utf-8") as f:
                    return json.load(f) if path.endswith(".json") else f.read()
            except (OSError, ValueError) as e:
                raise RuntimeFailure("InvalidSample", "The sample file '%s' cannot be read: %s" % (m.group(1), e))
        return value
    if isinstance(value, dict):
        return {k: resolve_file_refs(v, base_dir) for k, v in value.items()}
    return value


def connection_field(connections, name, field):
    spec = connections.get(name)
    if not isinstance(spec, dict):
        raise RuntimeFailure("ConnectionNotFound", (
            "Connection '%s' used by the flow's environment_variables is not set for this run. Set it with "
            "'Flow Session: Set Connection…' (or --connections for the CLI).") % name)
    for where in (spec, spec.get("secrets") or {}, spec.get("configs") or {}):
        if isinstance(where, dict) and field in where:
            return str(where[field])
    if field == "api_base" and spec.get("base_url"):
        return str(spec["base_url"])
    raise RuntimeFailure("ConnectionNotFound", "Connection '%s' has no field '%s'." % (name, field))


def apply_environment_variables(flow, connections):
    """The flow's environment_variables in this process only (a fresh child per request): `${conn.field}` read
    from the request's connections, so no secret reaches the container's environment."""
    for k, v in (flow.get("environment_variables") or {}).items():
        if v is None:
            continue
        text = str(v)
        m = _CONN_REF.match(text.strip())
        os.environ[str(k)] = connection_field(connections, m.group(1), m.group(2)) if m else text


def split_entry(entry):
    if not isinstance(entry, str) or ":" not in entry:
        raise RuntimeFailure("FlowDefinitionError", "Entry function %s is not valid: write it as 'module:function' "
                             "or 'module:Class'." % entry)
    module, _, attr = entry.strip().partition(":")
    return module, attr


def load_entry(flow, flow_dir):
    """The entry object (function or class) of a flex flow, imported fresh from the flow folder."""
    module_name, attr = split_entry(flow.get("entry"))
    code = flow.get("code")
    if isinstance(code, str) and code.strip():
        base = os.path.realpath(os.path.join(flow_dir, code))
        if toolmeta.inside(base, flow_dir) and base not in sys.path:
            sys.path.insert(0, base)
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as e:
        file = toolmeta.rel(e.filename, flow_dir) if e.filename and toolmeta.inside(e.filename, flow_dir) else None
        problem = FlexProblem("PythonParsingError", "Failed to load python module. Python parsing failed: (%s) %s"
                              % (type(e).__name__, e), file, e.lineno)
        raise problem
    except BaseException as e:  # noqa: B902 - SystemExit at import is a load error
        file = _module_file(module_name, flow_dir)
        if file is None:
            raise FlexProblem("PythonLoadError", "Failed to load python module '%s' of entry '%s': (%s) %s"
                              % (module_name, flow.get("entry"), type(e).__name__, e))
        err = toolmeta.load_error(e, file, flow_dir)
        problem = FlexProblem("PythonLoadError", err.message, err.file, err.line)
        problem.detail = err.detail
        raise problem
    obj = getattr(module, attr, None)
    if obj is None or not callable(obj):
        # placed on the entry line of the flow definition, where the name is written
        raise FlexProblem("EntryNotFound", "The entry '%s' was not found: module '%s' has no function or class '%s'."
                          % (flow.get("entry"), module_name, attr))
    return obj


def _module_file(module_name, flow_dir):
    base = os.path.join(flow_dir, *module_name.split("."))
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(candidate):
            return os.path.realpath(candidate)
    return None


def _model_config(type_name, value, connections, who):
    """A model configuration for an init parameter, from a dict of the init values (a connection flattened in)."""
    import promptflow.core as pfcore
    cls = getattr(pfcore, type_name)
    if not isinstance(value, dict):
        return value
    fields = {k: prompty_mod.env_value(v) for k, v in value.items() if k != "type"}
    name = fields.pop("connection", None)
    if name:
        spec = connections.get(name)
        if not isinstance(spec, dict):
            raise RuntimeFailure("ConnectionNotFound", (
                "Connection '%s' used by %s is not set for this run. Set it with 'Flow Session: Set Connection…' "
                "(or --connections for the CLI).") % (name, who))
        if type_name == "AzureOpenAIModelConfiguration":
            fields.setdefault("azure_endpoint", spec.get("api_base"))
            fields.setdefault("api_version", spec.get("api_version"))
        else:
            fields.setdefault("base_url", spec.get("base_url") or spec.get("api_base"))
            if spec.get("organization"):
                fields.setdefault("organization", spec.get("organization"))
        fields.setdefault("api_key", spec.get("api_key"))
    known = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set(fields)
    return cls(**{k: v for k, v in fields.items() if k in known and v is not None})


def init_values(cls, flow, given, connections, flow_dir):
    """The class's `__init__` arguments: --init values, else sample.init, else init defaults; connections by name."""
    ports = signature_ports(cls.__init__, "init parameter", allow_init_types=True)
    sample = resolve_file_refs((flow.get("sample") or {}).get("init") or {}, flow_dir)
    declared = flow.get("init") if isinstance(flow.get("init"), dict) else {}
    values = {}
    for name, port in ports.items():
        if name in given:
            value = given[name]
        elif isinstance(sample, dict) and name in sample:
            value = sample[name]
        elif isinstance(declared.get(name), dict) and "default" in declared[name]:
            value = declared[name]["default"]
        elif "default" in port:
            continue
        else:
            raise RuntimeFailure("InputNotFound", (
                "The init parameter '%s' of '%s' is not given: pass it with --init %s=… or an init JSON file, or "
                "set it under sample.init in flow.flex.yaml.") % (name, flow.get("entry"), name))
        t = (declared.get(name) or {}).get("type") if isinstance(declared.get(name), dict) else None
        t = port["type"] or t
        if t in MODEL_CONFIGS:
            value = _model_config(t, value, connections, "init parameter '%s'" % name)
        elif t in toolmeta.CONNECTION_CLASSES and isinstance(value, str):
            spec = connections.get(value)
            if not isinstance(spec, dict):
                raise RuntimeFailure("ConnectionNotFound", (
                    "Connection '%s' used by init parameter '%s' is not set for this run. Set it with 'Flow "
                    "Session: Set Connection…' (or --connections for the CLI).") % (value, name))
            value = conn_mod.build(value, spec)
        elif t in inputs_mod.VALUE_TYPES and value is not None:
            value = inputs_mod.parse_flow_input(name, value, t)
        values[name] = value
    return values


def entry_inputs(entry, flow, flow_dir):
    """The flow's inputs: the entry's signature (`__call__`'s for a class), defaults from the signature, then
    `inputs.<name>.default`, then `sample.inputs`."""
    if inspect.isclass(entry):
        call = getattr(entry, "__call__", None)
        if call is None or call is object.__call__:
            raise FlexProblem("EntryNotCallable", "The class '%s' of the entry has no __call__ method." % entry.__name__)
        inputs = signature_ports(call, "input")
    else:
        inputs = signature_ports(entry, "input")
    sample_inputs = resolve_file_refs((flow.get("sample") or {}).get("inputs") or {}, flow_dir)
    declared = flow.get("inputs") if isinstance(flow.get("inputs"), dict) else {}
    for k, port in inputs.items():
        if isinstance(declared.get(k), dict) and "default" in declared[k]:
            port["default"] = declared[k]["default"]
        if isinstance(sample_inputs, dict) and k in sample_inputs:
            port["default"] = sample_inputs[k]
    return inputs


def flex_executor(params, flow_dir, hub):
    flow = params.get("flow") or {}
    connections = params.get("connections") or {}
    apply_environment_variables(flow, connections)
    entry = load_entry(flow, flow_dir)
    name = entry.__name__ if hasattr(entry, "__name__") else str(flow.get("entry"))
    inputs = entry_inputs(entry, flow, flow_dir)
    ex = EntryExecutor(name, flow_dir, hub, inputs, "flex", params.get("trace") is True)
    init = params.get("init") if isinstance(params.get("init"), dict) else {}
    if inspect.isclass(entry):
        values = init_values(entry, flow, init, connections, flow_dir)
        cap = hub.begin("__init__", False)
        try:
            instance = entry(**values)
        except Exception as e:
            raise RuntimeFailure("FlowEntryInitializationError", hub.redact(
                "Failed to initialize '%s': (%s) %s" % (name, type(e).__name__, e)),
                detail=toolmeta.user_traceback(e, flow_dir))
        finally:
            hub.end(cap)
        ex.func = instance
        agg = getattr(instance, AGGREGATE, None)
        if callable(agg):
            ex.aggregate = agg
            ex.agg_nodes = [AGGREGATE]
    else:
        ex.func = entry
    return ex


def prompty_executor(params, flow_dir, hub):
    path = os.path.join(flow_dir, params.get("flowFile") or "")
    call = prompty_mod.load(path)
    inputs = {}
    for k, spec in call.inputs_def.items():
        spec = spec if isinstance(spec, dict) else {}
        declared = spec.get("type")
        port = {"type": declared if declared in inputs_mod.VALUE_TYPES or declared == "image" else None}
        if "default" in spec:
            port["default"] = spec["default"]
        inputs[k] = port
    try:
        sample = call.sample_inputs()
    except prompty_mod.InvalidSampleError:
        # as in prompt flow, a sample only stands in for inputs not given: a run that gives them does not need it
        # (one that does not is refused for the inputs it lacks)
        sample = None
    for k, v in (sample or {}).items():
        inputs.setdefault(k, {"type": None})["default"] = v
    ex = EntryExecutor(call.name, flow_dir, hub, inputs, "prompty", params.get("trace") is True)
    ex.func = call
    if str(call.model.get("response") or "first").lower() == "all":
        # the whole answer is an object in prompt flow (not a dict), so its run records it as the one output `output`
        ex.func = lambda **kwargs: _whole_answer(call(**kwargs))
    ex.image_base = os.path.dirname(call.path)  # a run's image paths are relative to the prompty
    return ex


def _whole_answer(result):
    """A prompty's `response: all` answer as prompt flow's flow output: `{"output": answer}` (a stream stays one)."""
    return {"output": result} if isinstance(result, prompty_mod.WholeResponse) else result
