"""`from promptflow.core import tool` for the shim: marks a function the way prompt flow does."""
import functools
import inspect

__all__ = ["tool", "ToolProvider", "log_metric"]


def tool(func=None, *, name=None, description=None, type=None, input_settings=None,
         streaming_option_parameter=None, **kwargs):
    """Decorate the flow's tool function; usable as @tool or @tool(...)."""

    def decorate(f):
        if inspect.iscoroutinefunction(f):
            @functools.wraps(f)
            async def wrapped(*args, **kw):
                return await f(*args, **kw)
        else:
            @functools.wraps(f)
            def wrapped(*args, **kw):
                return f(*args, **kw)
        # The attribute names prompt flow's tool collection looks for.
        setattr(wrapped, "__tool", None)
        setattr(wrapped, "__original_function", f)
        setattr(wrapped, "__type", type or "python")
        setattr(wrapped, "__name", name)
        setattr(wrapped, "__description", description)
        setattr(wrapped, "__input_settings", input_settings)
        setattr(wrapped, "__extra_info", kwargs)
        if streaming_option_parameter:
            setattr(wrapped, "__streaming_option_parameter", streaming_option_parameter)
        return wrapped

    return decorate(func) if func is not None else decorate


class ToolProvider:
    """Base class of class-based tools: the `__init__` parameters are node inputs too."""

    def __init__(self, *args, **kwargs):
        pass

    @classmethod
    def get_initialize_inputs(cls):
        return {k: p for k, p in inspect.signature(cls.__init__).parameters.items()
                if k != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}

    @classmethod
    def get_required_initialize_inputs(cls):
        return {k: p for k, p in cls.get_initialize_inputs().items() if p.default is inspect.Parameter.empty}


def log_metric(key, value, variant_id=None):
    """Records a metric of the run (an aggregation node's), kept in the run's metrics.json."""
    try:
        from flowsession_runtime import metrics
    except ImportError:  # the shim imported outside a session's runtime
        return None
    metrics.record(key, value, variant_id)
    return None
