"""Spans of the user's own functions: what prompt flow's `@trace` (promptflow.tracing) records, for the shim.

A decorated function called while a run is traced (inside a node, a flex entry or another traced function) gets a
span under the current one: named by its qualified name, with its inputs and output cut to the trace's size limit
and redacted, and an exception it raises recorded. Outside a traced run the function is called as it is.
"""
import functools
import inspect

from . import tracing


def _inputs(signature, args, kwargs):
    try:
        bound = signature.bind_partial(*args, **kwargs)
    except TypeError:
        return {"args": list(args), "kwargs": kwargs}
    return {k: v for k, v in bound.arguments.items() if k not in ("self", "cls")}


class _Call:
    """One traced call: its span (None when no run is traced) made current while the function runs."""

    def __init__(self, name, signature, args, kwargs):
        parent = tracing.current()
        self.span = None
        self.previous = None
        if parent is None:
            return
        tracer = parent.tracer
        attrs = {"span_type": "Function", "function": name,
                 "flowsession.inputs": tracing.value_text(_inputs(signature, args, kwargs), tracer.redact,
                                                          tracer.value_limit)}
        self.span = tracer.start(name, "function", parent.span_id, attrs)

    def __enter__(self):
        if self.span is not None:
            self.previous = tracing.enter(self.span)
        return self

    def __exit__(self, *_exc):
        if self.span is not None:
            tracing.leave(self.previous)
        return False

    def ok(self, output):
        span = self.span
        if span is not None:
            span.set("flowsession.output", tracing.value_text(output, span.tracer.redact, span.tracer.value_limit))
            span.finish(True)
        return output

    def failed(self, error):
        span = self.span
        if span is not None:
            span.set("error.type", type(error).__name__)
            span.set("exception.type", type(error).__qualname__)
            span.set("exception.message", tracing.value_text(str(error), span.tracer.redact, span.tracer.value_limit))
            span.finish(False, "%s: %s" % (type(error).__name__, error))


# items of a traced generator kept for its span's output (cut there anyway): the items are not all kept
_KEPT_ITEMS = 256


def _keep(parts, item):
    if len(parts) < _KEPT_ITEMS:
        parts.append(item)


def _items_done(call, parts):
    """Ends a generator's span, if nothing ended it: its output is the items, as text when they are text."""
    if call.span is not None and call.span.end is None:
        call.ok("".join(parts) if all(isinstance(p, str) for p in parts) else parts)


def _traced_generator(call, gen):
    """A generator's items as they come; its span ends when it is exhausted, fails or is closed. The span is
    current only while the generator runs, not while its reader does."""
    parts = []
    try:
        while True:
            with call:
                try:
                    item = next(gen)
                except StopIteration:
                    break
            _keep(parts, item)
            yield item
    except Exception as e:
        call.failed(e)
        raise
    finally:
        _items_done(call, parts)


async def _traced_async_generator(call, agen):
    """An async generator's items, traced as _traced_generator traces a generator's."""
    parts = []
    try:
        while True:
            with call:
                try:
                    item = await agen.__anext__()
                except StopAsyncIteration:
                    break
            _keep(parts, item)
            yield item
    except Exception as e:
        call.failed(e)
        raise
    finally:
        _items_done(call, parts)


def traced(func, name=None):
    """`func` wrapped to record a span per call when a run is traced."""
    name = name or getattr(func, "__qualname__", None) or getattr(func, "__name__", "function")
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        signature = inspect.Signature()

    if inspect.iscoroutinefunction(func):
        @functools.wraps(func)
        async def async_wrapper(*args, **kwargs):
            if tracing.current() is None:
                return await func(*args, **kwargs)
            call = _Call(name, signature, args, kwargs)
            try:
                with call:
                    result = await func(*args, **kwargs)
            except Exception as e:
                call.failed(e)
                raise
            return call.ok(result)
        return async_wrapper

    items = (_traced_async_generator if inspect.isasyncgenfunction(func) else
             _traced_generator if inspect.isgeneratorfunction(func) else None)
    if items is not None:
        @functools.wraps(func)
        def generator_wrapper(*args, **kwargs):
            if tracing.current() is None:
                return func(*args, **kwargs)
            return items(_Call(name, signature, args, kwargs), func(*args, **kwargs))
        return generator_wrapper

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if tracing.current() is None:
            return func(*args, **kwargs)
        call = _Call(name, signature, args, kwargs)
        try:
            with call:
                result = func(*args, **kwargs)
        except Exception as e:
            call.failed(e)
            raise
        return call.ok(result)
    return wrapper
