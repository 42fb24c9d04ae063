"""run: a single flow run with streamed node events and prompt flow's flow.detail.json shape."""
import os

from . import (capture, connections as conn_mod, debugging, flowdef, images, llm_instrumentation, metrics, prompty,
               single_node, streaming, tracing)
from .clock import utc_field, utc_now
from .executor import Executor, jsonable_record, pf_error
from .wire import RuntimeFailure, to_jsonable

NODE_OUTPUT_CAP = 1024 * 1024


def apply_environment(flow):
    # Only plain values: a `${conn.key}` reference would put a secret in the environment.
    for k, v in (flow.get("environment_variables") or {}).items():
        if isinstance(v, (str, int, float, bool)) and flowdef.parse_value(str(v)) is None and "${" not in str(v):
            os.environ[str(k)] = str(v)


def make_executor(params, flow_dir, hub, emit_events):
    flow = params["flow"]
    llm_timeout = params.get("llmTimeoutSeconds")
    if not isinstance(llm_timeout, (int, float)) or llm_timeout <= 0:
        llm_timeout = 600.0
    # every kind may call Prompty.load from code: the request's prompty files, env values and connections
    prompty.configure(params, flow_dir, float(llm_timeout), hub.redact)
    if params.get("trace") is True and tracing.disabled_for(flow):
        params = dict(params, trace=False)  # prompt flow's PF_DISABLE_TRACING=true
    if params.get("trace") is True:
        # before the user's code is imported: an `openai` it imports is patched as it loads
        llm_instrumentation.install()
    kind = params.get("kind") or "dag"
    if kind in ("flex", "prompty"):
        what = "a flex flow" if kind == "flex" else "a prompty"
        if params.get("node"):
            raise RuntimeFailure("InvalidParams", "Only a DAG flow's nodes run alone; %s has none." % what)
        if params.get("variant"):
            raise RuntimeFailure("InvalidVariant", "Only a DAG flow's nodes have variants; %s has none." % what)
        from . import flex
        make = flex.flex_executor if kind == "flex" else flex.prompty_executor
        try:
            executor = make(params, flow_dir, hub)
        except flex.FlexProblem as e:
            raise RuntimeFailure(e.code, hub.redact(e.message), detail=getattr(e, "detail", None))
        executor.emit_events = emit_events
        return executor
    apply_environment(flow)
    variants = flowdef.chosen_variants(flow, flowdef.parse_variant_selector(params.get("variant")))
    return Executor(flow, flow_dir, params.get("connections") or {}, hub, emit_events=emit_events,
                    variants=variants, llm_timeout=float(llm_timeout), trace=params.get("trace") is True)


def run_node(executor, params, run_id):
    """A line of one node: its output is the result's output (`pf flow test --node`)."""
    started = utc_now()
    node = single_node.find_node(executor, params["node"])
    flow_inputs, values = single_node.node_values(executor, node, params.get("inputs") or {},
                                                  params.get("nodeOutputs") or {})
    executor.begin_trace("node %s" % node.name, {"flowsession.run_id": run_id})
    # images among the flow inputs and the upstream outputs reach the node as images, as in a whole run
    flow_inputs = images.load_flow_inputs(executor.input_defs, flow_inputs, executor.image_base)
    try:
        values = images.load_within(values, executor.image_base)
    except Exception as e:
        raise RuntimeFailure("LoadMultimediaDataError", "Failed to load an image of node '%s': (%s) %s"
                             % (node.name, type(e).__name__, e))
    records, failure = executor.execute([node], run_id, None, flow_inputs, values)
    trace = executor.end_trace(failure is None, failure["error"].get("message") if failure else None, flow_inputs,
                               None if failure else {node.name: values.get(node.name)})
    line = {"status": "Completed", "inputs": flow_inputs, "records": records, "start_time": started,
            "end_time": utc_now(), "outputs": None, "error": None}
    if failure is not None:
        line["status"], line["error"] = "Failed", failure["error"]
    else:
        line["outputs"] = {node.name: values.get(node.name)}
    if trace is not None:
        line["trace"] = trace
    return line


def run(params, flow_dir, channel):
    run_id = params["runId"]
    redact = capture.Redactor(conn_mod.secrets_of(params.get("connections")) + prompty.secrets(params))
    hub = capture.Hub(channel, run_id, NODE_OUTPUT_CAP, redact)
    hub.install()
    started = utc_now()
    metrics.reset()
    metrics.follow_real_package()
    hub.log("Start executing nodes in thread pool mode.")
    variants = {}
    try:
        if params.get("debug"):
            # before the tools are loaded, so a breakpoint at a module's top level is hit too
            debugging.listen_and_wait(hub.channel, run_id)
        executor = make_executor(params, flow_dir, hub, emit_events=True)
        variants = executor.variants
        node = params.get("node")
        if isinstance(executor, Executor):
            executor.prepare(node or None)
            # a generator's chunks stream to the flow outputs that show it (a single node: its own output)
            executor.stream_to = {node: [node]} if node else streaming.streamed_nodes(executor.outputs_def)
        else:
            executor.prepare()  # a flex flow or a prompty streams its own output chunks
        if node:
            line = run_node(executor, params, run_id)
        else:
            line = executor.run_line(params.get("inputs") or {}, run_id, None, with_aggregation=True)
    except RuntimeFailure as e:
        line = {"status": "Failed", "outputs": None, "error": e.to_dict(), "inputs": params.get("inputs") or {},
                "records": [], "start_time": started, "end_time": utc_now(), "durationMs": 0}
    error = line.get("error")
    if error:
        error = dict(error, message=redact(error.get("message", "")))
        hub.log("Flow run failed: %s" % error["message"])
    else:
        hub.log("Flow run completed.")
    flow_run = {
        "run_id": run_id,
        "status": line["status"],
        "error": pf_error(error),
        "inputs": line.get("inputs"),
        "output": line.get("outputs"),
        "start_time": utc_field(line.get("start_time")),
        "end_time": utc_field(line.get("end_time")),
        "index": 0,
        "system_metrics": {"duration": (line.get("durationMs") or 0) / 1000.0},
    }
    if variants:
        # not a field of prompt flow's flow run: the run's own record of which variant of each node ran
        flow_run["variants"] = variants
    result = {
        "status": line["status"],
        "outputs": line.get("outputs") if line["status"] == "Completed" else None,
        "detail": {"flow_runs": [flow_run], "node_runs": [jsonable_record(r, run_id, 0) for r in line["records"]]},
        "log": hub.log_text(),
    }
    if error:
        result["error"] = error
    if variants:
        result["variants"] = variants
    if line.get("trace"):
        result["trace"] = line["trace"]
    logged = metrics.collected()
    if logged:
        result["metrics"] = logged
    return to_jsonable(result)
