"""A debug run: the run's child waits for a debugger before it runs the flow.

debugpy listens on loopback inside the session (an ephemeral port, nothing published on the host); the host
reaches it through an engine exec of dap_relay, the same way it reaches this runtime, so a remote engine works
as a local one does. debugpy's adapter leaves the child's process group (it daemonizes); it ends once both its
debuggee (this child: the run ended or was cancelled) and its client (the relay, closed by the host) are gone.
"""
import os

from .wire import RuntimeFailure

DEBUGGER_UNAVAILABLE = (
    "debugpy is not installed in the session, so the flow cannot be debugged there. It is installed when the "
    "runtime image is built, with the pip settings (flowsession.pip.*); the last build could not get it."
)


def listen_and_wait(channel, run_id):
    """Starts debugpy's adapter on 127.0.0.1 (a free port), tells the host where, and returns once a client attached."""
    # pydevd warns that Python 3.11's frozen standard modules may miss breakpoints: they are not the flow's code
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    try:
        import debugpy
    except ImportError as e:
        raise RuntimeFailure("DebuggerUnavailable", "%s (%s)" % (DEBUGGER_UNAVAILABLE, e))
    try:
        _host, port = debugpy.listen(("127.0.0.1", 0))
    except Exception as e:  # noqa: BLE001 - debugpy raises plain RuntimeError and socket errors alike
        raise RuntimeFailure("DebuggerUnavailable", "debugpy could not start its adapter in the session: %s" % e)
    channel.event("debugListening", runId=run_id, port=port)
    debugpy.wait_for_client()
