"""What a forked child does: prepare the process for user code, then validate, run or batch."""
import os
import sys

from .wire import RuntimeFailure


def prepare(flow_dir):
    flow_dir = os.path.realpath(flow_dir)
    if not os.path.isdir(flow_dir):
        raise RuntimeFailure("FlowDirectoryNotFound", "The flow folder '%s' does not exist in the session." % flow_dir)
    os.chdir(flow_dir)
    # User tools import their sibling modules by plain name, as in prompt flow.
    if flow_dir not in sys.path:
        sys.path.insert(0, flow_dir)
    return flow_dir


def prewarm():
    """Runs the span code of a traced request in a spare child while it waits for one: a forked child's first pass
    over code and objects copies the memory pages it touches, and this way they are copied before the request
    comes (a traced run paid about a quarter of a millisecond for it)."""
    from . import tracing
    tracing.warm_up(1)


def main(channel, method, params, flow_dir):
    flow_dir = prepare(flow_dir)
    if method == "validate":
        from . import validate
        channel.result(validate.validate(params, flow_dir))
    elif method == "run":
        from . import run
        channel.result(run.run(params, flow_dir, channel))
    elif method == "batch":
        from . import batch
        channel.result(batch.batch(params, flow_dir, channel))
    else:
        raise RuntimeFailure("MethodNotFound", "Unknown method '%s'." % method)
