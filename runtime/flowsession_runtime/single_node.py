"""One node run alone, as `pf flow test --node`: its inputs given, else the flow's defaults and the last run's outputs.

A node input is given by its own name, or by the reference it reads without `${}`: `inputs.url` for a flow
input, `fetch.output` or `fetch.output.text` for an upstream node's output.
"""
from . import inputs as inputs_mod
from .wire import RuntimeFailure

_MISSING = object()


def _nest(path, value):
    """The smallest output that `path` reads `value` from."""
    for key in reversed(path):
        if isinstance(key, int):
            value = [None] * key + [value]
        else:
            value = {key: value}
    return value


def _merge(into, value):
    if isinstance(into, dict) and isinstance(value, dict):
        for k, v in value.items():
            into[k] = _merge(into[k], v) if k in into else v
        return into
    return value


def find_node(executor, name):
    for node in executor.nodes:
        if node.name == name:
            return node
    raise RuntimeFailure("NodeNotFound", "The flow has no node '%s'; its nodes are %s."
                         % (name, sorted(n.name for n in executor.nodes)))


def node_values(executor, node, given, last_outputs):
    """(flow inputs, upstream outputs) the node reads, from what was given, the defaults and the last run."""
    flow_inputs, values, missing = {}, {}, []
    for k, ref in node.refs.items():
        if ref is None:
            continue
        key = ref.text.strip()[2:-1]
        value = given.get(key, given.get(k, _MISSING))
        if ref.kind == "input":
            if value is _MISSING:
                spec = executor.input_defs.get(ref.name)
                value = spec.get("default", _MISSING) if isinstance(spec, dict) else _MISSING
            if value is _MISSING:
                missing.append("%s (%s)" % (k, key))
                continue
            spec = executor.input_defs.get(ref.name)
            value_type = spec.get("type") if isinstance(spec, dict) else None
            if value_type in inputs_mod.VALUE_TYPES:
                try:
                    value = inputs_mod.parse_typed(value_type, value)
                except (ValueError, TypeError) as e:
                    raise RuntimeFailure("InputTypeError", "Input '%s' of node '%s' is not a %s: %s"
                                         % (k, node.name, value_type, e))
            flow_inputs[ref.name] = value
        elif value is not _MISSING:
            values[ref.name] = _merge(values.get(ref.name), _nest(ref.path, value)) if ref.path else value
        elif ref.name in last_outputs and ref.name not in values:
            values[ref.name] = last_outputs[ref.name]
        elif ref.name not in values:
            missing.append("%s (%s)" % (k, key))
    if missing:
        raise RuntimeFailure("InputNotFound", "Node '%s' needs %s: give %s with --inputs, or run the flow first so "
                             "its last run has the upstream outputs." % (
                                 node.name, ", ".join(missing), "them" if len(missing) > 1 else "it"))
    return flow_inputs, values
