"""Connection objects for tools, built from the per-request `connections` (secrets never stored).

A request's connection is `{type: <class name>, <field>: value, …}`; a custom one carries `configs` and
`secrets` (and `custom_type` + `module` when it was made for a CustomStrongTypeConnection subclass). A tool
gets an instance of prompt flow's class: the real `promptflow.connections` when the session has it, else
the runtime's shim with the same constructors and attributes."""
import importlib
import inspect

from .wire import RuntimeFailure

SECRET_FIELDS = ("api_key", "key", "secret", "password", "token")
# what describes a custom connection's class rather than holding a value of it
STRONG_TYPE_KEYS = ("custom_type", "module", "package", "package_version")
TYPE_KEY = "promptflow.connection.custom_type"
MODULE_KEY = "promptflow.connection.module"


def secrets_of(connections):
    """Every secret value in the request, for redaction."""
    out = []
    for spec in (connections or {}).values():
        if not isinstance(spec, dict):
            continue
        for k, v in spec.items():
            if k in SECRET_FIELDS and isinstance(v, str):
                out.append(v)
        secrets = spec.get("secrets")
        for v in secrets.values() if isinstance(secrets, dict) else ():
            if isinstance(v, str):
                out.append(v)
    return out


def type_of(spec):
    return (spec or {}).get("type") or "CustomConnection"


def is_strong_type_class(cls):
    return inspect.isclass(cls) and any(b.__name__ == "CustomStrongTypeConnection" for b in cls.__mro__[1:])


def check_type(spec, allowed, node_name, input_name):
    """prompt flow's check: the connection's class is one of the types the tool's input takes."""
    ctype = type_of(spec)
    if allowed and ctype not in allowed:
        raise RuntimeFailure("NodeInputValidationError", "Input '%s' for node '%s' of type %r is not supported, "
                             "valid types %r." % (input_name, node_name, ctype, list(allowed)))


def _custom_parts(spec):
    """(configs, secrets) of a custom connection; flat fields (an older flowsession file) join them by name."""
    configs = dict(spec.get("configs") or {})
    secrets = dict(spec.get("secrets") or {})
    for k, v in spec.items():
        if k in ("type", "configs", "secrets") or k in STRONG_TYPE_KEYS:
            continue
        (secrets if k in SECRET_FIELDS else configs)[k] = v
    return configs, secrets


def _strong_type_class(spec, annotation, where):
    """The CustomStrongTypeConnection subclass a custom connection becomes: the tool's annotation, or the class the
    connection names (`custom_type` in `module`), as prompt flow converts it; None for a plain CustomConnection."""
    if not is_strong_type_class(annotation):
        return None
    custom_type, module = spec.get("custom_type"), spec.get("module")
    if not custom_type or custom_type == annotation.__name__ or not module:
        return annotation
    try:
        cls = getattr(importlib.import_module(module), custom_type)
    except Exception as e:
        raise RuntimeFailure("ConnectionTypeNotFound", "Connection %s names the class %s in module %s, which cannot be "
                             "loaded: (%s). Install the package that defines it, or fix custom_type and module."
                             % (where, custom_type, module, type(e).__name__))
    if not is_strong_type_class(cls):
        raise RuntimeFailure("ConnectionTypeNotFound", "Connection %s names %s.%s, which is not a "
                             "CustomStrongTypeConnection." % (where, module, custom_type))
    return cls


def _builtin_kwargs(ctype, spec):
    kwargs = {k: v for k, v in spec.items() if k not in ("type", "configs", "secrets") and k not in STRONG_TYPE_KEYS}
    kwargs.update(spec.get("configs") or {})
    kwargs.update(spec.get("secrets") or {})
    if ctype == "OpenAIConnection":
        # flowsession's older files and the llm tool say api_base; the class takes base_url
        base = kwargs.pop("api_base", None)
        kwargs.setdefault("base_url", base)
    kwargs.pop("name", None)
    return {k: v for k, v in kwargs.items() if v is not None}


def build(name, spec, annotation=None):
    """An instance of the promptflow connection class (real package or shim) for a tool parameter annotated with
    `annotation` (a connection class, or None when only the metadata's type names are known)."""
    spec = dict(spec or {})
    ctype = type_of(spec)
    import promptflow.connections as pfc
    where = repr(name)
    if ctype == "CustomConnection":
        configs, secrets = _custom_parts(spec)
        cls = _strong_type_class(spec, annotation, where)
        if cls is not None:
            obj = cls(secrets=secrets, configs=configs)
        else:
            if spec.get("custom_type") and spec.get("module"):
                # as prompt flow keeps a strong-type connection that a tool takes as a plain CustomConnection
                configs.setdefault(TYPE_KEY, spec["custom_type"])
                configs.setdefault(MODULE_KEY, spec["module"])
            obj = pfc.CustomConnection(secrets=secrets, configs=configs)
    else:
        cls = getattr(pfc, ctype, None)
        if cls is None:
            raise RuntimeFailure("ConnectionTypeNotFound", "Connection %s has the type %s, which the promptflow "
                                 "package of this session does not have." % (where, ctype))
        try:
            obj = cls(**_builtin_kwargs(ctype, spec))
        except TypeError as e:
            # the message names the parameter only, never a value
            raise RuntimeFailure("InvalidConnection", "Connection %s (%s) is incomplete: %s." % (where, ctype, e))
    try:
        obj.name = name
    except Exception:
        pass
    return obj
