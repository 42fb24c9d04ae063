"""Metrics a run records with `log_metric(key, value)`, as prompt flow keeps them for metrics.json.

Aggregation nodes run in the request's process (threads of it), so one store per process holds a run's
metrics. The shim's `log_metric` records here; with the real promptflow package installed, its metric
logger manager is told to record here too.
"""
import numbers
import sys
import threading

_lock = threading.Lock()
_store = {}


def reset():
    with _lock:
        _store.clear()


def record(key, value, variant_id=None):
    """prompt flow's rules: a numeric value (a bool is not one); with a variant the key is `<key>.<variant>`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        sys.stderr.write("Metric '%s' is not logged: its value %r is not a number.\n" % (key, value))
        return
    name = "%s.%s" % (key, variant_id) if variant_id else str(key)
    with _lock:
        _store[name] = float(value) if not isinstance(value, int) else value


def collected():
    with _lock:
        return dict(_store)


def follow_real_package():
    """With the real promptflow installed, its log_metric reaches its logger manager, not the shim."""
    try:
        from promptflow._core.metric_logger import add_metric_logger
    except Exception:  # the shim, or a promptflow without it
        return
    try:
        add_metric_logger(record)
    except Exception:
        pass
