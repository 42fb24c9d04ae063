"""Flow input defaults and type coercion, with prompt flow's InputNotFound/InputTypeError/InputParseError."""
import json

from .wire import RuntimeFailure

VALUE_TYPES = ("int", "double", "bool", "string", "list", "object")
# the class of a value parse_typed returns unchanged (or an equal copy) for the type: no need to parse it
_PARSED_CLASS = {"int": int, "double": float, "bool": bool, "string": str, "list": list}


def parse_typed(value_type, v):
    """prompt flow's ValueType.parse: raises ValueError/TypeError/JSONDecodeError on a mismatch."""
    if value_type == "int":
        if isinstance(v, str):
            return int(v.strip())
        return int(v)
    if value_type == "double":
        return float(v)
    if value_type == "bool":
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v.lower() in ("true", "false"):
            return v.lower() == "true"
        raise ValueError("Invalid boolean value %r" % (v,))
    if value_type == "string":
        return v if isinstance(v, str) else str(v)
    if value_type == "list":
        if isinstance(v, str):
            v = json.loads(v)
        if not isinstance(v, list):
            raise ValueError("Invalid list value %r" % (v,))
        return v
    if value_type == "object":
        if isinstance(v, str):
            try:
                return json.loads(v)
            except ValueError:
                pass  # as in prompt flow: an object input may really be a plain string
        return v
    return v


def _flow_input_info(key, idx):
    return "'%s'%s" % (key, "" if idx is None else " in line %d of input data" % idx)


def parse_flow_input(key, value, value_type, idx=None):
    try:
        return parse_typed(value_type, value)
    except json.JSONDecodeError as e:
        raise RuntimeFailure("InputParseError", (
            "Failed to parse the flow input. The value for flow input %s was interpreted as JSON string since its "
            "type is '%s'. However, the value '%s' is invalid for JSON parsing. Error details: (%s) %s. Please make "
            "sure your inputs are properly formatted.") % (_flow_input_info(key, idx), value_type, value,
                                                          type(e).__name__, e))
    except Exception:
        raise RuntimeFailure("InputTypeError", (
            "The input for flow is incorrect. The value for flow input %s does not match the expected type '%s'. "
            "Please change flow input type or adjust the input value in your input data.")
            % (_flow_input_info(key, idx), value_type))


def resolve_flow_inputs(definitions, given, idx=None):
    """Defaults applied, every defined input present and parsed to its type. Extra inputs are kept."""
    definitions = definitions or {}
    resolved = dict(given or {})
    for key, spec in definitions.items():
        spec = spec if isinstance(spec, dict) else {}
        if key not in resolved and spec.get("default") is not None:
            resolved[key] = spec["default"]
    for key in definitions:
        if key not in resolved:
            line_info = "in input data" if idx is None else "in line %d of input data" % idx
            raise RuntimeFailure("InputNotFound", (
                "The input for flow is incorrect. The value for flow input '%s' is not provided %s. Please review "
                "your input data or remove this input in your flow if it's no longer needed.") % (key, line_info))
    for key, spec in definitions.items():
        value_type = (spec or {}).get("type") if isinstance(spec, dict) else None
        if value_type in VALUE_TYPES:
            value = resolved[key]
            if value.__class__ is _PARSED_CLASS.get(value_type) or (value_type == "object"
                                                                    and not isinstance(value, str)):
                continue
            resolved[key] = parse_flow_input(key, value, value_type, idx)
    return resolved
