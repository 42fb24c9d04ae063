"""validate: tool metadata for each node source, then node inputs checked against it."""
import os

from . import flowdef, inputs as inputs_mod, llm_params, node_inputs, packagetools, templates, toolmeta
from .wire import RuntimeFailure

TEMPLATE_TYPES = ("prompt", "llm")
TEMPLATE_EXTENSIONS = (".jinja2", ".j2", ".jinja")
# a template above this size is parsed in a child, where a slow parse cannot hold up the runtime
IN_PROCESS_TEMPLATE_BYTES = 1 << 20


def _norm(path):
    if not isinstance(path, str):
        return path
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def _file_problem(e):
    return [p.to_problem() for p in getattr(e, "all", [e])]


def _yaml_problem(code, message, yaml_path, severity="error"):
    return {"code": code, "message": message, "severity": severity, "file": "flow.dag.yaml",
            "yamlPath": list(yaml_path)}


def runs_no_user_code(params, flow_dir):
    """A check of saved templates only, in a flow without package tools: parsing a jinja2 template runs nothing
    of the user's, so it needs no process of its own (a fork costs more than the check)."""
    sources = params.get("sources")
    flow = params.get("flow")
    if not isinstance(sources, list) or not sources or not isinstance(flow, dict):
        return False
    wanted = set()
    for source in sources:
        if not isinstance(source, str) or not source.lower().endswith(TEMPLATE_EXTENSIONS):
            return False
        try:
            if os.path.getsize(os.path.join(flow_dir, source)) > IN_PROCESS_TEMPLATE_BYTES:
                return False
        except OSError:
            pass  # missing: the check reports it
        wanted.add(_norm(source))
    for yaml_path, raw in flowdef.all_variant_entries(flow):
        node = flowdef.Node(raw, yaml_path)
        if node.source_type in packagetools.SOURCE_TYPES:
            return False
        if _norm(node.source_path) in wanted and node.type not in TEMPLATE_TYPES:
            return False
    return True


def validate(params, flow_dir):
    kind = params.get("kind") or "dag"
    problems = check_prompty_templates(params)
    if kind != "dag":
        entry = None
        if kind == "flex":
            from . import flex_check
            found, entry = flex_check.check(params, flow_dir)
            problems = found + problems
        failed = any(p["severity"] == "error" for p in problems)
        result = {"result": "Failed" if failed else "Succeeded", "errors": problems, "tools": {"code": {}, "package": {}}}
        if entry is not None:
            result["entry"] = {"inputs": entry}
        return result
    result = validate_dag(params, flow_dir)
    if problems:
        result["errors"].extend(problems)
        if any(p["severity"] == "error" for p in problems):
            result["result"] = "Failed"
    return result


def check_prompty_templates(params):
    """Template syntax of the request's .prompty files, placed on their lines in those files."""
    docs = params.get("prompty")
    if not isinstance(docs, dict) or not docs:
        return []
    problems = []
    for rel_path, doc in sorted(docs.items()):
        if not isinstance(doc, dict) or doc.get("error") or not isinstance(doc.get("template"), str):
            continue  # an unreadable front matter is the static checks' to report
        try:
            templates.template_inputs(doc["template"])
        except RuntimeFailure as e:  # jinja2 missing
            problems.append({"code": e.code, "message": e.message, "severity": "error", "file": rel_path,
                             "line": 1, "column": 1, "endLine": 1, "endColumn": 2})
            break
        except Exception as e:
            if not templates.is_syntax_error(e):
                raise
            first = doc.get("templateLine") if isinstance(doc.get("templateLine"), int) else 1
            line = first + (e.lineno or 1) - 1
            problems.append({"code": "JinjaParsingError", "message": "Jinja parsing failed at line %d: "
                             "(TemplateSyntaxError) %s" % (line, e.message), "severity": "error", "file": rel_path,
                             "line": line, "column": 1, "endLine": line, "endColumn": 2})
    return problems


def validate_dag(params, flow_dir):
    flow = params.get("flow") or {}
    sources = params.get("sources")
    wanted = {_norm(s) for s in sources if isinstance(s, str)} if isinstance(sources, list) else None
    # the connections a run would get (name -> {type, custom_type}), when the caller knows them; else unchecked
    connections = params.get("connections") if isinstance(params.get("connections"), dict) else None
    problems, metas, tools, package_tools = [], {}, {}, {}
    catalog = packagetools.Catalog()
    for yaml_path, raw in flowdef.all_variant_entries(flow):
        node = flowdef.Node(raw, yaml_path)
        if node.type not in flowdef.NODE_TYPES:
            continue  # the static checks report a missing or unknown type
        unsupported = node.unsupported()
        if unsupported:
            # what run refuses, validate reports: the two never disagree
            key, failure = unsupported
            problems.append(_yaml_problem(failure.code, failure.message, yaml_path + ([key] if key in raw else [])))
            continue
        if node.source_type in packagetools.SOURCE_TYPES:
            problems.extend(check_package_node(node, catalog, flow_dir, package_tools, connections))
            continue
        path = node.source_path
        if wanted is not None and _norm(path) not in wanted:
            continue
        try:
            full = toolmeta.resolve_source(flow_dir, node.name, path)
        except RuntimeFailure as e:
            problems.append(_source_problem(node, e, "path"))
            continue
        key = (full, node.type if node.type == "python" else "template")
        if key not in metas:
            metas[key] = _derive(node.type, full, flow_dir, problems)
        meta = metas[key]
        if meta is None:
            continue
        rel_path = toolmeta.rel(full, flow_dir)
        tools.setdefault(rel_path, meta[0])
        problems.extend(check_node_inputs(node, meta[0], meta[1]))
        problems.extend(check_connections(node, meta[0].get("inputs") or {}, connections))
    failed = any(p["severity"] == "error" for p in problems)
    return {"result": "Failed" if failed else "Succeeded", "errors": problems,
            "tools": {"code": tools, "package": package_tools}}


def _source_problem(node, e, key):
    src = node.raw.get("source")
    where = node.yaml_path + (["source", key] if isinstance(src, dict) and key in src else
                              ["source"] if "source" in node.raw else [])
    return _yaml_problem(e.code, e.message, where)


def check_package_node(node, catalog, flow_dir, package_tools, connections=None):
    """A package tool node: the tool found (its metadata listed under `package`), its inputs checked."""
    try:
        tool = catalog.find(node.source_tool)
    except RuntimeFailure as e:
        return [_source_problem(node, e, "tool")]
    packagetools.apply_node_connection(node, tool)
    package_tools.setdefault(tool.id, tool.meta)
    meta = dict(tool.meta)
    accepts_kwargs = tool.accepts_kwargs()
    problems = []
    if node.source_type == "package_with_prompt":
        # the template fills the prompt parameter; its variables reach the tool as keyword arguments
        prompt = tool.prompt_param()
        meta["inputs"] = {k: v for k, v in (meta.get("inputs") or {}).items() if k != prompt}
        try:
            toolmeta.template_meta(toolmeta.resolve_source(flow_dir, node.name, node.source_path), flow_dir,
                                   node.type)
        except toolmeta.ToolProblem as e:
            problems.extend(_file_problem(e))
        except RuntimeFailure as e:
            problems.append(_source_problem(node, e, "path"))
    return (problems + check_node_inputs(node, meta, accepts_kwargs, tool.param_names())
            + check_connections(node, meta.get("inputs") or {}, connections))


def _derive(node_type, full, flow_dir, problems):
    """(meta, accepts_kwargs) or None after recording the file's problems."""
    try:
        if node_type == "python":
            meta, _func, kwargs = toolmeta.python_meta(full, flow_dir)
            return meta, kwargs
        return toolmeta.template_meta(full, flow_dir, node_type), True
    except toolmeta.ToolProblem as e:
        problems.extend(_file_problem(e))
        return None


def check_node_inputs(node, meta, accepts_kwargs, more_names=()):
    """`more_names`: parameters the tool takes that its metadata does not list (a package tool's code is the truth)."""
    problems = []
    tool_inputs = dict(meta.get("inputs") or {})
    is_template = node.type in TEMPLATE_TYPES
    if node.type == "llm":
        for name, typ in llm_params.LLM_PARAMS.items():
            tool_inputs.setdefault(name, {"type": [typ], "default": ""})
    has_inputs = isinstance(node.raw.get("inputs"), dict)
    inputs_path = node.yaml_path + (["inputs"] if has_inputs else [])
    for name, spec in tool_inputs.items():
        if "default" in spec or name in node.inputs or packagetools.disabled(spec, node.inputs):
            continue
        if is_template:
            problems.append(_yaml_problem(
                "MissingNodeInput", "Input '%s' of the template of node '%s' is not provided; it will render as "
                "empty." % (name, node.name), inputs_path, "warning"))
        else:
            problems.append(_yaml_problem(
                "MissingNodeInput", "Input '%s' for node '%s' is required by tool function '%s' but is not "
                "provided. Please add it to the node inputs." % (name, node.name, meta.get("function")),
                inputs_path))
    accepted = list(tool_inputs) + [n for n in more_names if n not in tool_inputs]
    for name, message in node_inputs.unknown_inputs(node, accepted, accepts_kwargs):
        problems.append(_yaml_problem(node_inputs.CODE, message, node.yaml_path + ["inputs", name]))
    for name, value in node.inputs.items():
        path = node.yaml_path + ["inputs", name]
        spec = tool_inputs.get(name)
        if spec is None:
            continue
        if node.refs.get(name) is not None or value is None or value == "":
            continue
        value_type = (spec.get("type") or ["object"])[0]
        if value_type not in inputs_mod.VALUE_TYPES:
            continue
        try:
            inputs_mod.parse_typed(value_type, value)
        except Exception:
            problems.append(_yaml_problem(
                "NodeInputValidationError", "Input '%s' for node '%s' of value '%s' is not type %s."
                % (name, node.name, value, value_type), path))
    return problems


LLM_CONNECTION_TYPES = ["AzureOpenAIConnection", "OpenAIConnection"]


def check_connections(node, tool_inputs, connections):
    """With the run's connections known: each connection a node names exists, of a type its tool takes (what run
    would refuse, validate reports, on the line of that input)."""
    if connections is None:
        return []
    wanted = []
    for name, value in node.inputs.items():
        spec = tool_inputs.get(name) or {}
        typ = spec.get("type") or []
        if node.refs.get(name) is not None or not isinstance(value, str) or not value:
            continue
        if any(t in toolmeta.CONNECTION_CLASSES for t in typ) or spec.get("custom_type"):
            wanted.append((value, typ, node.yaml_path + ["inputs", name], "input '%s'" % name, name))
    if node.type == "llm" and isinstance(node.connection, str) and node.connection:
        wanted.append((node.connection, LLM_CONNECTION_TYPES, node.yaml_path + ["connection"], "the llm tool", None))
    problems = []
    for conn_name, typ, path, purpose, input_name in wanted:
        spec = connections.get(conn_name)
        if not isinstance(spec, dict):
            problems.append(_yaml_problem("ConnectionNotFound", (
                "Connection '%s' used by %s of node '%s' is not set. Set it with 'Flow Session: Set Connection…' "
                "(or --connections for the CLI).") % (conn_name, purpose, node.name), path))
            continue
        ctype = spec.get("type") or "CustomConnection"
        if ctype not in typ:
            message = ("Input '%s' for node '%s' of type %r is not supported, valid types %r." % (
                input_name, node.name, ctype, list(typ)) if input_name else
                "Connection '%s' of node '%s' is a %s; the llm tool takes %s." % (
                    conn_name, node.name, ctype, " or ".join(typ)))
            problems.append(_yaml_problem("NodeInputValidationError", message, path))
    return problems
