"""Minimal stand-in for the `promptflow` package, used only when the real one is not installed.

flowsession puts this directory on sys.path after site-packages, so `pip install promptflow`
in the session makes the real package win.
"""
from promptflow.core import ToolProvider, log_metric, tool  # noqa: F401
from promptflow.tracing import start_trace, trace  # noqa: F401

__flowsession_shim__ = True
__version__ = "0.0.0+flowsession-shim"
