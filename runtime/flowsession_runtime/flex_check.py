"""What the session finds in a flex flow without running it: its entry imports, exists and has a signature prompt
flow accepts."""
import inspect
import os
import typing

from . import toolmeta
from .entry_executor import AGGREGATE
from .flex import FlexProblem, entry_inputs, load_entry, signature_ports, value_type
from .wire import RuntimeFailure, to_jsonable


def check(params, flow_dir):
    """What the session finds in a flex flow without running it: the entry imports, exists and has a signature
    prompt flow accepts (inputs, init parameters, the return type). (problems, the entry's inputs or None)."""
    flow = params.get("flow") or {}
    flow_file = params.get("flowFile") or "flow.flex.yaml"

    def problem(code, message, file=None, line=None):
        if file and line:
            start, end = toolmeta.line_span(os.path.join(flow_dir, file), line)
            return {"code": code, "message": message, "severity": "error", "file": file, "line": line,
                    "column": start, "endLine": line, "endColumn": end}
        return {"code": code, "message": message, "severity": "error", "file": flow_file, "yamlPath": ["entry"]}

    try:
        entry = load_entry(flow, flow_dir)
    except FlexProblem as e:
        return [problem(e.code, e.message, e.file, e.line)], None
    except RuntimeFailure as e:
        return [problem(e.code, e.message)], None
    where = _where(entry, flow_dir)
    out = []
    targets = []
    if inspect.isclass(entry):
        call = getattr(entry, "__call__", None)
        if call is None or call is object.__call__:
            return [problem("EntryNotCallable", "The class '%s' of the entry has no __call__ method."
                            % entry.__name__, *where)], None
        targets.append((call, "input", False))
        if entry.__init__ is not object.__init__:
            targets.append((entry.__init__, "init parameter", True))
        agg = getattr(entry, AGGREGATE, None)
        if callable(agg):
            n = len([p for p in inspect.signature(agg).parameters.values() if p.name != "self"])
            if n != 1:
                out.append(problem("InvalidAggregationFunction", "__aggregate__ must take exactly one parameter (the "
                                   "list of line results), not %d." % n, *_where(agg, flow_dir)))
    else:
        targets.append((entry, "input", False))
    for func, what, init in targets:
        try:
            signature_ports(func, what, allow_init_types=init)
        except FlexProblem as e:
            out.append(problem(e.code, e.message, *_where(func, flow_dir)))
    func = targets[0][0]
    try:
        anno = inspect.signature(func).return_annotation
        origin = typing.get_origin(anno)
        streaming = origin is not None and getattr(origin, "__name__", "") in ("Iterator", "Generator", "Iterable")
        if not streaming and not isinstance(anno, str):
            value_type(anno)
    except TypeError as e:
        out.append(problem("FlexFlowSignatureError", "The output of '%s' is of %s (%s): return a str, a dict, a "
                           "TypedDict or a dataclass." % (getattr(func, "__qualname__", "entry"), e,
                                                          getattr(anno, "__name__", str(anno))),
                           *_where(func, flow_dir)))
    except ValueError:
        pass
    try:
        inputs = to_jsonable(entry_inputs(entry, flow, flow_dir))
    except RuntimeFailure:
        inputs = None  # a signature error is reported above; an unreadable sample file when the flow runs
    return out, inputs


def _where(obj, flow_dir):
    """(file relative to the flow folder, def line) of a function or class defined in the flow folder."""
    try:
        target = inspect.unwrap(obj)
        file = inspect.getsourcefile(target)
        line = inspect.getsourcelines(target)[1]
    except (TypeError, OSError):
        return None, None
    if not file or not toolmeta.inside(file, flow_dir):
        return None, None
    return toolmeta.rel(os.path.realpath(file), flow_dir), line
