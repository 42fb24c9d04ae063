"""Generator outputs of tools (an llm node with `stream: true`, a python tool that yields).

Prompt flow keeps such an output a generator while it is a flow output (`pf flow test` prints it as it comes)
and records the joined text (`"".join(str(chunk) for chunk in output)`). Here a generator is consumed where it is
made, in the node's thread: each chunk goes out at once as an `outputStream` event when a flow output shows the
node's whole output, and the node's output is the whole text, which is what downstream nodes, flow outputs and every
record receive. A flex flow's or a prompty's generator output streams the same way, with the same event (no node).
"""
import asyncio
import inspect

from . import flowdef

# a chunk larger than this (a tool yielding a whole document) is sent in pieces, each event under the size limit
EVENT_TEXT_LIMIT = 32 * 1024


def is_stream(value):
    return inspect.isgenerator(value) or inspect.isasyncgen(value)


def streamed_nodes(outputs_def):
    """node -> the flow outputs that show its whole output (`${node.output}`): the nodes whose chunks stream."""
    nodes = {}
    for name, spec in (outputs_def or {}).items():
        reference = spec.get("reference") if isinstance(spec, dict) else None
        ref = flowdef.parse_value(reference)
        if ref is not None and ref.kind == "node" and ref.section == "output" and not ref.path:
            nodes.setdefault(ref.name, []).append(name)
    return nodes


def emitter(hub, run_id, outputs, node=None):
    """What sends a streamed output's chunks: the one `outputStream` event, naming the flow outputs the text belongs
    to and the DAG node that makes it (a flex flow's or a prompty's own output has no node); the text redacted."""
    def emit(text):
        fields = {"runId": run_id, "outputs": list(outputs), "text": hub.redact(text)}
        if node is not None:
            fields["node"] = node
        hub.channel.event("outputStream", **fields)
    return emit


def consume(stream, emit=None):
    """The whole text of a generator (sync or async); each chunk's text goes to emit(text) as it arrives."""
    parts = []

    def take(item):
        text = item if isinstance(item, str) else str(item)
        if not text:
            return
        parts.append(text)
        if emit is not None:
            for i in range(0, len(text), EVENT_TEXT_LIMIT):
                emit(text[i:i + EVENT_TEXT_LIMIT])

    if inspect.isasyncgen(stream):
        async def drain():
            async for item in stream:
                take(item)
        asyncio.run(drain())
    else:
        for item in stream:
            take(item)
    return "".join(parts)
