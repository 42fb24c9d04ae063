"""Executes a flow's DAG for one line (and its aggregation nodes), node by node, in threads."""
import asyncio
import concurrent.futures
import functools
import inspect
import sys
import time
import types

from . import (connections as conn_mod, flowdef, images, inputs as inputs_mod, llm, node_inputs, packagetools, streaming,
               templates, toolmeta, tracing)
from .clock import utc_field
from .line_trace import LineTracing
from .wire import RuntimeFailure, capped_value, dumps, to_jsonable

CONNECTION_TYPES = toolmeta.CONNECTION_CLASSES


def pf_error(err):
    """A protocol error in the nested shape of prompt flow's flow.detail.json."""
    if not err:
        return None
    category = "SystemError" if err.get("code") in ("RuntimeCrashed", "RuntimeError") else "UserError"
    inner = {"code": err.get("innerCode"), "innerError": None} if err.get("innerCode") else None
    out = {"message": err.get("message"), "code": category, "innerError": {"code": err.get("code"), "innerError": inner}}
    if err.get("detail"):
        out["debugInfo"] = {"stackTrace": err["detail"]}
    return out


def _direct(func):
    """The tool function itself when func is the promptflow shim's @tool wrapper, which only calls it; else func (a
    method bound to a tool class's instance, a partial, another decorator's wrapper)."""
    if func.__class__ is not types.FunctionType:
        return func
    codes = getattr(sys.modules.get("promptflow.core"), "PASS_THROUGH_CODES", ())
    original = getattr(func, "__original_function", None)
    return original if original is not None and func.__code__ in codes else func


class Tool:
    """A resolved node: call(inputs) -> output."""

    def __init__(self, kind, func=None, template=None, connection=None, spec_inputs=None, literals=None):
        self.kind = kind
        self.func = func
        # what a line calls
        self.call = _direct(func) if func is not None else None
        self.template = template
        self.connection = connection
        self.spec_inputs = spec_inputs or {}
        self.literals = literals or {}


# results no tool wraps a coroutine or a stream in: a node returning one needs neither check
_PLAIN_RESULTS = frozenset((str, int, float, bool, type(None), dict, list, tuple))
# how a node input gets its value on a line (see _NodePlan.inputs)
_LITERAL, _FLOW_INPUT, _NODE_OUTPUT, _REFERENCE = range(4)


NO_LOGS = {"stdout": "", "stderr": ""}


class _NodePlan:
    """What running a node needs that stays the same from line to line, worked out once (a batch runs many lines):
    how each input gets its value, the nodes whose bypass it follows, the attributes of its span."""

    __slots__ = ("inputs", "ref_nodes", "span_attrs")

    def __init__(self, node, tool, span_attrs):
        # (name, how, what) in the node's input order: a literal value, a flow input or a node's whole output by name,
        # else the reference (a path into the value, a section other than output) resolved as _ref_value does;
        # None when the node has no tool (a node run prepared another node): the general _node_inputs fails it
        self.inputs = None
        if tool is not None:
            self.inputs = []
            for k, ref in node.refs.items():
                if ref is None:
                    if k in tool.literals:
                        self.inputs.append((k, _LITERAL, tool.literals[k]))
                elif ref.kind == "input" and not ref.path:
                    self.inputs.append((k, _FLOW_INPUT, ref.name))
                elif ref.kind == "node" and ref.section == "output" and not ref.path:
                    self.inputs.append((k, _NODE_OUTPUT, ref.name))
                else:
                    self.inputs.append((k, _REFERENCE, ref))
        self.ref_nodes = tuple(r.name for r in node.refs.values() if r is not None and r.kind == "node")
        self.span_attrs = span_attrs


class Executor(LineTracing):
    def __init__(self, flow, flow_dir, connections, hub, emit_events=True, variants=None, llm_timeout=600.0,
                 trace=False):
        self.flow = flow
        self.flow_dir = flow_dir
        self.connections = connections or {}
        self.hub = hub
        self.emit_events = emit_events
        self.llm_timeout = llm_timeout
        self.nodes, self.deps = flowdef.load_nodes(flow, variants)
        # node -> the variant that runs, for the results to say which variant made the outputs
        self.variants = dict(variants or {})
        self.main_nodes = [n for n in self.nodes if not n.aggregation]
        self.agg_nodes = [n for n in self.nodes if n.aggregation]
        self.agg_names = {n.name for n in self.agg_nodes}
        self.input_defs = flow.get("inputs") or {}
        self.outputs_def = flow.get("outputs") or {}
        self.tools = {}
        # node -> the flow outputs its chunks stream to; set by a single run (a batch records, it does not show)
        self.stream_to = {}
        # where relative image paths of the inputs are looked up: the flow folder, a batch's data folder
        self.image_base = flow_dir
        self.catalog = packagetools.Catalog()
        self.init_tracing(trace)
        self._check_outputs()
        # worked out on first use, per node and per node list (see _plan, _chain); prepare() starts them again
        self._plans = {}
        self._chains = {}
        # (name, reference text, parsed reference) of each flow output
        self._output_refs = [(name, ref_text, flowdef.parse_value(ref_text)) for name, ref_text in
                             ((n, spec.get("reference") if isinstance(spec, dict) else None)
                              for n, spec in self.outputs_def.items())]
        self._loads_images = images.may_load(self.input_defs)
        # False where a node's records are not kept (a batch worker's lines): its prints are then not captured
        self.keep_node_output = True

    # -- preparation ------------------------------------------------------------------------
    def _check_outputs(self):
        names = {n.name for n in self.nodes}
        for out, spec in self.outputs_def.items():
            reference = spec.get("reference") if isinstance(spec, dict) else None
            if reference in (None, ""):
                raise RuntimeFailure("EmptyOutputReference", (
                    "The output '%s' for flow is incorrect. The reference is not specified for the output '%s' in "
                    "the flow. To rectify this, ensure that you accurately specify the reference in the flow.")
                    % (out, out))
            ref = flowdef.parse_value(reference)
            if ref is not None and ref.kind == "node" and ref.name not in names:
                raise RuntimeFailure("OutputReferenceNotFound", (
                    "The output '%s' for flow is incorrect. The node '%s' referenced by the output '%s' can not "
                    "found in flow. To rectify this, ensure that you accurately specify the reference in the flow.")
                    % (out, ref.name, out))
            if ref is not None and ref.kind == "input" and ref.name not in self.input_defs:
                raise RuntimeFailure("OutputReferenceNotFound", (
                    "The output '%s' for flow is incorrect. The flow input '%s' referenced by the output '%s' is "
                    "not defined in the flow.") % (out, ref.name, out))

    def prepare(self, only=None):
        """Resolves the tools of every node, or of the node named `only` (a node run needs nothing of the others:
        not their connections, not their code)."""
        modules = {}
        self._plans, self._chains = {}, {}
        for node in self.nodes:
            if only is not None and node.name != only:
                continue
            try:
                self.tools[node.name] = self._resolve(node, modules)
            except RuntimeFailure as e:
                if e.code in ("InvalidSource", "NodeInputValidationError", "ConnectionNotFound",
                              "InvalidConnectionType", "UnsupportedNodeType", node_inputs.CODE):
                    e.node = node.name
                    raise
                raise RuntimeFailure("ResolveToolError", "Tool load failed in '%s': (%s) %s"
                                     % (node.name, e.code, e.message), detail=e.detail, node=node.name)

    def _literals(self, node, spec_inputs, params=None):
        """The node's literal inputs as the tool takes them: connections built, values parsed to their types.
        `params` are the tool's signature parameters: an input annotated with a CustomStrongTypeConnection
        subclass receives an instance of that class."""
        params = params or {}
        literals = {}
        for k, v in node.inputs.items():
            if node.refs.get(k) is not None:
                continue
            if v is None or v == "":
                continue  # prompt flow drops empty literals so the function default applies
            spec = spec_inputs.get(k) or {}
            typ = spec.get("type") or []
            if any(t in CONNECTION_TYPES for t in typ) or spec.get("custom_type"):
                conn = self._connection(node, v, "input '%s'" % k)
                conn_mod.check_type(conn, typ, node.name, k)
                param = params.get(k)
                anno = toolmeta.resolve_annotation(param.annotation) if param is not None else None
                literals[k] = conn_mod.build(v, conn, anno)
            elif typ and typ[0] == "image":
                try:
                    literals[k] = images.create_image(v, self.flow_dir)
                except Exception as e:
                    raise RuntimeFailure("NodeInputValidationError", "Failed to load image for input '%s': (%s) %s"
                                         % (k, type(e).__name__, e))
            elif typ and typ[0] in inputs_mod.VALUE_TYPES:
                try:
                    literals[k] = inputs_mod.parse_typed(typ[0], v)
                except Exception:
                    raise RuntimeFailure("NodeInputValidationError", "Input '%s' for node '%s' of value '%s' is "
                                         "not type %s." % (k, node.name, v, typ[0]))
            else:
                literals[k] = v
        return literals

    def _package_tool(self, node):
        """A package tool: a class tool's instance is made here, once for the run, from its literal init inputs."""
        tool = self.catalog.find(node.source_tool)
        packagetools.apply_node_connection(node, tool)
        spec_inputs = tool.meta.get("inputs") or {}
        node_inputs.refuse_unknown_inputs(node, list(spec_inputs) + tool.param_names(), tool.accepts_kwargs())
        literals = self._literals(node, spec_inputs, {**tool.call_params(), **tool.init_params()})
        init_names = set(tool.init_params())
        for k in init_names & set(node.inputs):
            if node.refs.get(k) is not None:
                raise RuntimeFailure("InputTypeMismatch", "Invalid input for '%s': Initialization input '%s' "
                                     "requires a literal value, but %s was received."
                                     % (tool.meta.get("name") or tool.id, k, node.inputs[k]))
        func = tool.bind({k: v for k, v in literals.items() if k in init_names})
        call_literals = {k: v for k, v in literals.items() if k not in init_names}
        if node.source_type == "package_with_prompt":
            prompt = toolmeta.read_template(toolmeta.resolve_source(self.flow_dir, node.name, node.source_path))
            func = functools.partial(func, **{tool.prompt_param() or "prompt": prompt})
            # a literal the template shows as an image (`![image]({{ x }})`) is loaded as one, as prompt flow does
            for name in templates.image_variables(prompt):
                if isinstance(call_literals.get(name), (str, dict)):
                    try:
                        call_literals[name] = images.create_image(call_literals[name], self.flow_dir)
                    except Exception as e:
                        raise RuntimeFailure("NodeInputValidationError", "Failed to load image for input '%s': (%s) %s"
                                             % (name, type(e).__name__, e))
        return Tool("python", func=func, spec_inputs=spec_inputs, literals=call_literals)

    def _connection(self, node, name, purpose):
        spec = self.connections.get(name) if isinstance(name, str) else None
        if not isinstance(spec, dict):
            raise RuntimeFailure("ConnectionNotFound", (
                "Connection '%s' used by %s of node '%s' is not set for this run. Set it with 'Flow Session: Set "
                "Connection…' (or --connections for the CLI).") % (name, purpose, node.name))
        return spec

    def _resolve(self, node, modules):
        unsupported = node.unsupported()
        if unsupported:
            raise unsupported[1]
        if node.source_type in packagetools.SOURCE_TYPES:
            return self._package_tool(node)
        full = toolmeta.resolve_source(self.flow_dir, node.name, node.source_path)
        if node.type == "python":
            if full not in modules:
                modules[full] = toolmeta.python_meta(full, self.flow_dir)
            meta, func, kwargs = modules[full]
            node_inputs.refuse_unknown_inputs(node, meta["inputs"], kwargs)
            params = inspect.signature(getattr(func, "__original_function", func)).parameters
            return Tool("python", func=func, spec_inputs=meta["inputs"],
                        literals=self._literals(node, meta["inputs"], params))
        text = toolmeta.read_template(full)
        templates.require_jinja()
        literals = {k: v for k, v in node.inputs.items() if node.refs.get(k) is None}
        if node.type == "prompt":
            return Tool("prompt", template=text, literals=literals)
        conn = self._connection(node, node.connection, "the llm tool")
        return Tool("llm", template=text, connection=conn, literals=literals)

    # -- values -----------------------------------------------------------------------------
    def _ref_value(self, ref, flow_inputs, values):
        if ref.kind == "input":
            base = flow_inputs.get(ref.name)
            what = "the flow input '%s'" % ref.name
        elif ref.section != "output":
            raise RuntimeFailure("UnsupportedReference", (
                "Flow execution failed. The section '%s' of reference is currently unsupported. Please specify the "
                "output part of the node '%s'.") % (ref.section, ref.name))
        else:
            base = values.get(ref.name)
            what = "the node '%s' output" % ref.name
        return flowdef.get_path(base, ref.path, what)

    def _node_inputs(self, node, flow_inputs, values, agg_lists=None):
        tool = self.tools[node.name]
        out = {}
        for k, ref in node.refs.items():
            if ref is None:
                if k in tool.literals:
                    out[k] = tool.literals[k]
                continue
            if agg_lists is not None and (ref.kind == "input" or ref.name not in self.agg_names):
                out[k] = agg_lists.get(node.name, {}).get(k, [])
            else:
                out[k] = self._ref_value(ref, flow_inputs, values)
        return out

    def _plan_inputs(self, inputs, flow_inputs, values):
        """A line node's inputs from its plan: what _node_inputs gives, without looking at references again."""
        out = {}
        for k, how, what in inputs:
            if how == _LITERAL:
                out[k] = what
            elif how == _FLOW_INPUT:
                out[k] = flow_inputs.get(what)
            elif how == _NODE_OUTPUT:
                out[k] = values.get(what)
            else:
                out[k] = self._ref_value(what, flow_inputs, values)
        return out

    def aggregation_values(self, flow_inputs, values):
        """For each aggregation node, the line-level values it will receive as lists."""
        out = {}
        for node in self.agg_nodes:
            for k, ref in node.refs.items():
                if ref is not None and (ref.kind == "input" or ref.name not in self.agg_names):
                    out.setdefault(node.name, {})[k] = self._ref_value(ref, flow_inputs, values)
        return out

    def _bypassed(self, node, flow_inputs, values, status):
        if node.activate is not None:
            ref = node.activate_ref
            if ref is not None and ref.kind == "node" and status.get(ref.name) == "Bypassed":
                return True
            when = self._ref_value(ref, flow_inputs, values) if ref is not None else node.activate.get("when")
            return not (when == node.activate.get("is"))
        # bypassed when every node it references that has a status was bypassed, and there is one
        seen = False
        for name in self._plan(node).ref_nodes:
            state = status.get(name)
            if state is not None:
                if state != "Bypassed":
                    return False
                seen = True
        return seen

    def _plan(self, node):
        plan = self._plans.get(node.name)
        if plan is None:
            tool = self.tools.get(node.name)
            plan = self._plans[node.name] = _NodePlan(node, tool, self._span_attributes(node, tool))
        return plan

    # -- node execution ---------------------------------------------------------------------
    def _call(self, node, kwargs, run_id):
        tool = self.tools[node.name]
        if tool.kind == "python":
            result = tool.call(**kwargs)
            if result.__class__ in _PLAIN_RESULTS:
                return result
            if inspect.iscoroutine(result):
                result = asyncio.run(result)
        elif tool.kind == "prompt":
            return templates.render(tool.template, kwargs)
        else:
            result = llm.call(tool.template, kwargs, tool.connection, node.connection, node.api, self.llm_timeout,
                              self.hub.redact)
        if result.__class__ not in _PLAIN_RESULTS and streaming.is_stream(result):
            result = streaming.consume(result, self._stream_emitter(node, run_id))
        return result

    def _stream_emitter(self, node, run_id):
        outputs = self.stream_to.get(node.name)
        if not outputs or not self.emit_events:
            return None
        return streaming.emitter(self.hub, run_id, outputs, node.name)

    def _error(self, node, e):
        return tool_error(node.name, e, self.hub.redact, self.flow_dir)

    # -- tracing (begin_trace, end_trace: LineTracing) ------------------------------------------------------
    def _span_attributes(self, node, tool):
        attrs = tracing.SharedAttributes({"flowsession.node.name": node.name,
                                          "span_type": "LLM" if node.type == "llm" else "Function",
                                          "flowsession.node.type": node.type or (tool.kind if tool else "")})
        if node.name in self.variants:
            attrs["flowsession.node.variant"] = self.variants[node.name]
        if node.aggregation:
            attrs["flowsession.node.aggregation"] = True
        return attrs

    def trace_step_attributes(self):
        return [(node.name, self._plan(node).span_attrs) for node in self.main_nodes]

    def trace_step_inputs(self):
        # a node's inputs are named when each is a literal, a flow input or a whole output of a step of the table
        steps = {node.name: i for i, node in enumerate(self.main_nodes)}
        out = []
        for node in self.main_nodes:
            plan = self._plan(node).inputs
            sources = [] if plan is not None else None
            for k, how, what in plan or ():
                if not k.isascii():  # the host writes a name as JSON exactly as the runtime does when it is ASCII
                    sources = None
                    break
                if how == _LITERAL:
                    sources.append([k, "value", dumps(what)])
                elif how == _FLOW_INPUT:
                    sources.append([k, "input", what])
                elif how == _NODE_OUTPUT and what in steps:
                    sources.append([k, "step", steps[what]])
                else:
                    sources = None
                    break
            out.append(sources)
        return out

    def _node_span(self, node):
        return self.start_step(node.name, self._plan(node).span_attrs)

    def _run_node(self, node, run_id, index, flow_inputs, values, agg_lists):
        """Runs one node; returns its record (its start and end in Unix nanoseconds: jsonable_record writes them as
        prompt flow does). Only BaseExceptions like SystemExit escape (they end the process)."""
        hub, emit, name, plan = self.hub, self.emit_events, node.name, self._plan(node)
        t0 = time.time_ns()
        # a recorded line's step of the table (what start_step gives), without the calls: a batch runs many
        line, attrs = self.line_record, plan.span_attrs
        if line is not None and attrs.parent is not None:
            span = attrs.parent
        else:
            span = self.start_step(name, attrs) if self.tracer is not None else None
        if span is not None:
            entered = tracing.CURRENT.set(span)
        # what a node prints is captured unless nobody reads it (a batch worker's lines keep no node records)
        cap = hub.begin(name, emit) if emit or self.keep_node_output else None
        if emit:
            hub.channel.event("nodeStart", runId=run_id, node=name)
        if not hub.log_truncated:
            hub.log("Executing node %s." % name)
        status, kwargs, output, error = "Completed", None, None, None
        try:
            if agg_lists is None and plan.inputs is not None:
                kwargs = self._plan_inputs(plan.inputs, flow_inputs, values)
            else:
                kwargs = self._node_inputs(node, flow_inputs, values, agg_lists)
            output = self._call(node, kwargs, run_id)
        except Exception as e:
            status, error = "Failed", self._error(node, e)
        finally:
            if cap is not None:
                hub.end(cap)
            if span is not None:
                tracing.CURRENT.reset(entered)
        t1 = time.time_ns()
        # the record made once, whole (a batch makes many)
        rec = {"node": name, "status": status, "inputs": kwargs, "output": output, "error": error,
               "durationMs": (t1 - t0) // 1000000, "start_time": t0, "end_time": t1,
               "logs": {"stdout": cap.text("stdout"), "stderr": cap.text("stderr")} if cap is not None else NO_LOGS}
        if span is not None:
            if line is not None and span is attrs.parent:
                line.add_step(attrs.index, rec)
            else:
                self.end_step_span(span, rec)
        if not hub.log_truncated:  # a batch's log keeps nothing: the message is not even made
            hub.log("Node %s %s." % (name, "completes" if rec["status"] == "Completed" else "failed"))
        if emit:
            self._emit_end(run_id, rec)
        return rec

    def _emit_end(self, run_id, rec):
        emit_node_end(self.hub.channel, run_id, rec)

    def _settle(self, node, run_id, flow_inputs, values, status, records):
        """True when the node is to run; else its record is added (bypassed, or failed on its activate condition)
        and its status set."""
        try:
            bypass = self._bypassed(node, flow_inputs, values, status)
        except RuntimeFailure as e:
            now = time.time_ns()
            rec = {"node": node.name, "status": "Failed", "error": self._error(node, e),
                   "start_time": now, "end_time": now, "durationMs": 0}
            records.append(rec)
            status[node.name] = "Failed"
            if self.emit_events:
                self._emit_end(run_id, rec)
            return False
        if not bypass:
            return True
        status[node.name], values[node.name] = "Bypassed", None
        now = time.time_ns()
        rec = {"node": node.name, "status": "Bypassed", "inputs": None, "output": None,
               "error": None, "start_time": now, "end_time": now, "durationMs": 0}
        records.append(rec)
        self.end_step_span(self._node_span(node), rec)
        self.hub.log("Node %s is bypassed." % node.name)
        if self.emit_events:
            self._emit_end(run_id, rec)
        return False

    def execute(self, nodes, run_id, index, flow_inputs, values, agg_lists=None):
        """Runs nodes in dependency order, independent ones concurrently. Stops at the first failure."""
        chain = self._chain(nodes)
        if chain is not None:
            return self._execute_chain(chain, run_id, index, flow_inputs, values, agg_lists)
        return self._execute_graph(nodes, run_id, index, flow_inputs, values, agg_lists)

    def _chain(self, nodes):
        """The nodes when each depends on the one before it (and on none after): then no two are ever ready at once,
        and the general path would run them one after the other in this thread, in this order; else None."""
        known = self._chains.get(id(nodes))
        if known is not None and known[0] is nodes:
            return known[1]
        names, before = {n.name for n in nodes}, set()
        chain = list(nodes)
        for i, node in enumerate(nodes):
            inside = self.deps[node.name] & names
            if not inside <= before or (i and nodes[i - 1].name not in inside):
                chain = None
                break
            before.add(node.name)
        if nodes is self.main_nodes or nodes is self.agg_nodes:  # the lists every line runs (a node run makes its own)
            self._chains[id(nodes)] = (nodes, chain)
        return chain

    def _execute_chain(self, chain, run_id, index, flow_inputs, values, agg_lists):
        """execute() for a chain: what the general path does for it, without its scheduling."""
        status, records = {}, []
        bypassed = False  # until a node is bypassed, one without an activate condition runs (see _bypassed)
        for node in chain:
            if (bypassed or node.activate is not None) and not self._settle(node, run_id, flow_inputs, values, status,
                                                                            records):
                if status[node.name] == "Failed":
                    return records, records[-1]
                bypassed = True
                continue
            rec = self._run_node(node, run_id, index, flow_inputs, values, agg_lists)
            records.append(rec)
            status[node.name], values[node.name] = rec["status"], rec["output"]
            if rec["status"] == "Failed":
                return records, rec
        return records, None

    def _execute_graph(self, nodes, run_id, index, flow_inputs, values, agg_lists):
        names = {n.name for n in nodes}
        status, records, failure = {}, [], None
        pending, ready, running = list(nodes), [], {}
        pool = None
        try:
            while True:
                changed = True
                while changed and failure is None:
                    changed = False
                    for node in list(pending):
                        if not all(d in status or d not in names for d in self.deps[node.name]):
                            continue
                        pending.remove(node)
                        changed = True
                        if self._settle(node, run_id, flow_inputs, values, status, records):
                            ready.append(node)
                        elif status[node.name] == "Failed":
                            failure = records[-1]
                            break
                if failure is not None or (not ready and not running):
                    break
                if len(ready) == 1 and not running:
                    done_recs = [self._run_node(ready.pop(), run_id, index, flow_inputs, values, agg_lists)]
                else:
                    if pool is None:
                        pool = concurrent.futures.ThreadPoolExecutor(max_workers=16,
                                                                     thread_name_prefix="flowsession-node")
                    for node in ready:
                        f = pool.submit(self._run_node, node, run_id, index, flow_inputs, values, agg_lists)
                        running[f] = node
                    ready.clear()
                    done, _ = concurrent.futures.wait(list(running), return_when=concurrent.futures.FIRST_COMPLETED)
                    done_recs = []
                    for f in done:
                        running.pop(f)
                        done_recs.append(f.result())  # re-raises SystemExit from a node thread
                for rec in done_recs:
                    records.append(rec)
                    status[rec["node"]] = rec["status"]
                    values[rec["node"]] = rec["output"]
                    if rec["status"] == "Failed" and failure is None:
                        failure = rec
            for f, node in running.items():
                now = time.time_ns()
                rec = {"node": node.name, "status": "Canceled", "inputs": None, "output": None, "error": None,
                       "start_time": now, "end_time": now, "durationMs": 0}
                records.append(rec)
                if self.emit_events:
                    self._emit_end(run_id, rec)
        finally:
            if pool is not None:
                pool.shutdown(wait=False)
        return records, failure

    # -- a line -----------------------------------------------------------------------------
    def flow_outputs(self, flow_inputs, values):
        out = {}
        for name, reference, ref in self._output_refs:
            out[name] = reference if ref is None else self._ref_value(ref, flow_inputs, values)
        return out

    def run_line(self, given_inputs, run_id, index=None, with_aggregation=False):
        """{status, outputs, error, flow_inputs, records, values}. Input errors fail the line."""
        t0 = time.time_ns()
        result = {"status": "Completed", "outputs": None, "error": None, "inputs": given_inputs, "records": [],
                  "start_time": t0}
        self.begin_line_trace(run_id, index)
        try:
            flow_inputs = inputs_mod.resolve_flow_inputs(self.input_defs, given_inputs, index)
            if self._loads_images:
                flow_inputs = images.load_flow_inputs(self.input_defs, flow_inputs, self.image_base)
            result["inputs"] = flow_inputs
            values = {}
            records, failure = self.execute(self.main_nodes, run_id, index, flow_inputs, values)
            result["records"] = records
            if failure is not None:
                result["status"], result["error"] = "Failed", failure["error"]
            else:
                result["outputs"] = self.flow_outputs(flow_inputs, values)
                result["agg"] = self.aggregation_values(flow_inputs, values) if self.agg_nodes else None
                if with_aggregation and self.agg_nodes:
                    lists = {n: {k: [v] for k, v in d.items()} for n, d in result["agg"].items()}
                    agg_records, agg_failure = self.run_aggregation(lists, run_id)
                    result["records"] = records + agg_records
                    if agg_failure is not None:
                        result["status"], result["error"] = "Failed", agg_failure["error"]
        except RuntimeFailure as e:
            result["status"] = "Failed"
            result["error"] = e.to_dict()
        result["end_time"] = t1 = time.time_ns()
        result["durationMs"] = (t1 - t0) // 1000000
        error = result.get("error")
        trace = self.end_trace(result["status"] == "Completed", error.get("message") if error else None,
                               result.get("inputs"), result.get("outputs"))
        if trace is not None:
            result["trace"] = trace
        return result

    def run_aggregation(self, lists, run_id):
        return self.execute(self.agg_nodes, run_id, None, {}, {}, agg_lists=lists)


def tool_error(name, e, redact, flow_dir):
    """The error of a failed step (a node, a flex entry): a RuntimeFailure's code, else ToolExecutionError with the
    exception's class, its traceback restricted to the flow folder, secrets redacted."""
    if isinstance(e, RuntimeFailure):
        err = {"code": e.code, "message": redact(e.message), "node": name}
    else:
        err = {"code": "ToolExecutionError", "innerCode": type(e).__name__, "node": name,
               "message": redact("Execution failure in '%s': (%s) %s" % (name, type(e).__name__, e))}
    detail = toolmeta.user_traceback(e, flow_dir) if e.__traceback__ is not None else None
    if detail:
        err["detail"] = redact(detail)
    return err


def emit_node_end(channel, run_id, rec):
    """The nodeEnd event of a step's record: its output (capped) when it completed, its error when it failed."""
    ev = {"runId": run_id, "node": rec["node"], "status": rec["status"], "durationMs": rec.get("durationMs", 0)}
    if rec["status"] == "Completed":
        ev["output"], truncated = capped_value(rec["output"])
        if truncated:
            ev["outputTruncated"] = True
    if rec.get("error"):
        ev["error"] = rec["error"]
    channel.event("nodeEnd", **ev)


def jsonable_record(rec, flow_run_id, index):
    """A node record in the shape of prompt flow's node_runs entries."""
    return to_jsonable({
        "node": rec["node"],
        "flow_run_id": flow_run_id,
        "run_id": "%s_%s_%d" % (flow_run_id, rec["node"], index or 0),
        "status": rec["status"],
        "inputs": rec.get("inputs"),
        "output": rec.get("output"),
        "error": pf_error(rec.get("error")),
        "start_time": utc_field(rec.get("start_time")),
        "end_time": utc_field(rec.get("end_time")),
        "index": index or 0,
        "logs": rec.get("logs") or {"stdout": "", "stderr": ""},
        "system_metrics": {"duration": (rec.get("durationMs") or 0) / 1000.0},
    })
