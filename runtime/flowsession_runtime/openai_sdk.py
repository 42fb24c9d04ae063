"""LLM calls the user's code makes with the `openai` package (v1), traced as prompt flow's tracing does it: the
`create` methods of the chat completions, completions and embeddings resources (sync and async) are wrapped to
record an LLM span under the current span, streamed answers chunk by chunk.

The runtime never imports `openai` itself: a meta-path hook patches the classes right after the user's code first
imports the package (or at once, when it is already imported). The SDK talks over httpx, not http.client, so its
calls are not traced twice by http_calls.
"""
import importlib
import importlib.abc
import sys

from . import tracing

# (module, class, API path): what prompt flow's _openai_injector patches for LLM and embedding calls
_APIS = (
    ("openai.resources.chat", "Completions", "chat/completions"),
    ("openai.resources.chat", "AsyncCompletions", "chat/completions"),
    ("openai.resources", "Completions", "completions"),
    ("openai.resources", "AsyncCompletions", "completions"),
    ("openai.resources", "Embeddings", "embeddings"),
    ("openai.resources", "AsyncEmbeddings", "embeddings"),
)
# what a span reads of a request's keyword arguments (never api_key, headers, extra_headers)
_REQUEST_FIELDS = ("model", "messages", "prompt", "input", "temperature", "top_p", "max_tokens", "stream")


def _as_dict(value):
    for name in ("model_dump", "to_dict", "dict"):
        method = getattr(value, name, None)
        if callable(method):
            try:
                result = method()
            except Exception:
                continue
            if isinstance(result, dict):
                return result
    return value if isinstance(value, dict) else None


def _start(resource, path, kwargs):
    if tracing.current() is None:
        return None
    client = getattr(resource, "_client", None)
    base = str(getattr(client, "base_url", "") or "https://api.openai.com/v1/")
    azure = "azure" in type(client).__name__.lower()
    call = tracing.LLMCall(base.rstrip("/") + "/" + path, {k: kwargs[k] for k in _REQUEST_FIELDS if k in kwargs},
                           ["api-key"] if azure else [])
    if call.span is None:
        return None
    call.span.set("flowsession.instrumented", "openai")
    return call


class _TracedStream:
    """The SDK's Stream (or AsyncStream) as it is, its chunks seen by the call; the span ends at the last one."""

    def __init__(self, stream, call):
        self._stream = stream
        self._call = call
        self._items = None

    def __next__(self):
        if self._items is None:
            self._items = self.__iter__()
        return next(self._items)

    async def __anext__(self):
        if self._items is None:
            self._items = self.__aiter__()
        return await self._items.__anext__()

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def __iter__(self):
        complete = False
        try:
            for chunk in self._stream:
                self._call.chunk(_as_dict(chunk))
                yield chunk
            complete = True
        except Exception as e:
            self._call.failed(e)
            raise
        finally:
            self._call.stream_done(complete)

    async def __aiter__(self):
        complete = False
        try:
            async for chunk in self._stream:
                self._call.chunk(_as_dict(chunk))
                yield chunk
            complete = True
        except Exception as e:
            self._call.failed(e)
            raise
        finally:
            self._call.stream_done(complete)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self._stream.close()
        self._call.stream_done(False)
        return False

    def close(self):
        try:
            close = getattr(self._stream, "close", None)
            if callable(close):
                close()
        finally:
            self._call.stream_done(False)


def _finish(call, result, kwargs):
    if kwargs.get("stream") is True:
        return _TracedStream(result, call)
    call.done(_as_dict(result))
    return result


def _wrap(create, path, is_async):
    if is_async:
        async def traced_create(self, *args, **kwargs):
            call = _start(self, path, kwargs)
            if call is None:
                return await create(self, *args, **kwargs)
            try:
                result = await create(self, *args, **kwargs)
            except Exception as e:
                call.failed(e)
                raise
            return _finish(call, result, kwargs)
    else:
        def traced_create(self, *args, **kwargs):
            call = _start(self, path, kwargs)
            if call is None:
                return create(self, *args, **kwargs)
            try:
                result = create(self, *args, **kwargs)
            except Exception as e:
                call.failed(e)
                raise
            return _finish(call, result, kwargs)
    traced_create.__name__ = getattr(create, "__name__", "create")
    traced_create.__doc__ = getattr(create, "__doc__", None)
    traced_create._flowsession_original = create
    return traced_create


def patch():
    """Wraps the create methods of the imported `openai` package's resources (each once); what is missing is skipped."""
    for module_name, class_name, path in _APIS:
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except Exception:
            continue  # another version of the SDK: what it lacks is not traced
        create = getattr(cls, "create", None)
        if create is None or hasattr(create, "_flowsession_original"):
            continue
        cls.create = _wrap(create, path, class_name.startswith("Async"))


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when `openai` is imported, it lets the other finders find it and patches it once loaded."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "openai":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return spec

        def exec_and_patch(module):
            exec_module(module)
            try:
                patch()
            except Exception:
                pass  # the SDK works untraced rather than not at all
        loader.exec_module = exec_and_patch
        return spec


def install():
    """Patches `openai` now when it is imported, else when the user's code imports it."""
    if "openai" in sys.modules:
        patch()
        return
    if not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())
