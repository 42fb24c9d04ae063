"""`from promptflow.core import tool` for the shim: marks a function the way prompt flow does."""
import functools
import inspect

import dataclasses
import os

__all__ = ["tool", "ToolProvider", "log_metric", "Prompty", "AsyncPrompty", "AzureOpenAIModelConfiguration",
           "OpenAIModelConfiguration", "ModelConfiguration"]


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


def _pass_through_codes():
    async def coroutine():
        pass
    return frozenset((tool(lambda: None).__code__, tool(coroutine).__code__))


# the code of what @tool wraps a function in, which only calls it: the runtime calls the function itself (a batch calls
# it many times), unless another decorator wraps the tool again
PASS_THROUGH_CODES = _pass_through_codes()


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


class ModelConfiguration:
    pass


@dataclasses.dataclass
class AzureOpenAIModelConfiguration(ModelConfiguration):
    """prompt flow's Azure OpenAI model configuration (a connection name, or the endpoint and key)."""
    azure_deployment: str
    azure_endpoint: str = None
    api_version: str = None
    api_key: str = None
    organization: str = None
    connection: str = None

    def __post_init__(self):
        if any([self.azure_endpoint, self.api_key, self.api_version, self.organization]) and self.connection:
            raise ValueError("Cannot configure model config and connection at the same time.")

    def __repr__(self):
        return "AzureOpenAIModelConfiguration(azure_deployment=%r, connection=%r)" % (
            self.azure_deployment, self.connection)  # never the key


@dataclasses.dataclass
class OpenAIModelConfiguration(ModelConfiguration):
    """prompt flow's OpenAI model configuration (a connection name, or the key and base URL)."""
    model: str
    base_url: str = None
    api_key: str = None
    organization: str = None
    connection: str = None

    def __post_init__(self):
        if any([self.base_url, self.api_key, self.organization]) and self.connection:
            raise ValueError("Cannot configure model config and connection at the same time.")

    def __repr__(self):
        return "OpenAIModelConfiguration(model=%r, connection=%r)" % (self.model, self.connection)


def __getattr__(name):
    # the runtime's Prompty, imported when first asked for: the shim stays importable outside a session
    if name in ("Prompty", "AsyncPrompty"):
        from flowsession_runtime import prompty as _impl
        return _impl.SessionPrompty if name == "Prompty" else _impl.SessionAsyncPrompty
    raise AttributeError(name)
