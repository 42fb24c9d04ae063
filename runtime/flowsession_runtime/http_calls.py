"""LLM calls the user's code makes itself over plain HTTP (http.client, and urllib.request, which goes through it),
traced as the runtime traces its own: a POST to an OpenAI-compatible path (`/chat/completions`, `/completions`,
`/embeddings`) made while a run is traced becomes an LLM span under the current span, with the model and the
usage read from the JSON bodies as the caller reads them (a streamed answer chunk by chunk). Headers are never
read beyond their names (an `api-key` header says the API is Azure's), so a key cannot reach a span.

The patch is installed once per request process (a fresh child) and costs a context variable lookup per request
outside a traced run. The runtime's own calls (llm.py) are skipped: they are traced where they are made.
"""
import contextvars
import http.client
import json
import urllib.parse

from . import tracing

_LLM_PATHS = ("/chat/completions", "/completions", "/embeddings")
# a request body larger than this is not parsed for the span (its model and messages are left out)
_REQUEST_LIMIT = 1024 * 1024
# a JSON answer is kept for the span up to this size (an embeddings answer of many vectors is the big case)
_RESPONSE_LIMIT = 8 * 1024 * 1024

_own = contextvars.ContextVar("flowsession_own_request", default=False)
_installed = []


def own_request():
    """Marks the runtime's own request (made and traced by llm.py) in this context; returns the token to reset."""
    return _own.set(True)


def end_own_request(token):
    _own.reset(token)


def _is_llm_path(url):
    return urllib.parse.urlsplit(url).path.rstrip("/").endswith(_LLM_PATHS)


def _request_body(body):
    if isinstance(body, (bytes, bytearray)) and len(body) <= _REQUEST_LIMIT:
        text = bytes(body).decode("utf-8", "replace")
    elif isinstance(body, str) and len(body) <= _REQUEST_LIMIT:
        text = body
    else:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _full_url(conn, url):
    if url.startswith(("http://", "https://")):
        return url  # through a proxy the whole URL is sent
    scheme = "https" if isinstance(conn, http.client.HTTPSConnection) else "http"
    return "%s://%s:%s%s" % (scheme, conn.host, conn.port, url)


def _start(conn, method, url, body, headers):
    if method != "POST" or _own.get() or tracing.current() is None or not _is_llm_path(url):
        return None
    call = tracing.LLMCall(_full_url(conn, url), _request_body(body), list(headers or {}))
    if call.span is None:
        return None
    call.span.set("flowsession.instrumented", "http.client")
    return call


class _Observer:
    """Sees the bytes a caller reads from one response and ends the call's span when the answer is whole."""

    def __init__(self, resp, call):
        self.call = call
        ctype = (resp.getheader("Content-Type") or "").lower()
        self.stream = "event-stream" in ctype
        self.buffer = bytearray()
        self.depth = 0
        self.ended = False
        self.skipping = False

    def feed(self, data):
        if self.ended or not data:
            return
        if not self.stream:
            if len(self.buffer) + len(data) <= _RESPONSE_LIMIT:
                self.buffer += data
            return
        self.buffer += data
        while b"\n" in self.buffer:
            line, _, rest = bytes(self.buffer).partition(b"\n")
            self.buffer = bytearray(rest)
            if self.skipping:
                self.skipping = False  # the end of a line too long to keep
                continue
            text = line.decode("utf-8", "replace").strip()
            if text.startswith("data:") and text[5:].strip() != "[DONE]":
                try:
                    chunk = json.loads(text[5:].strip())
                except ValueError:
                    continue
                self.call.chunk(chunk)
        if len(self.buffer) > _RESPONSE_LIMIT:
            # an event line without its end past the limit: not kept, the rest of it skipped
            self.buffer = bytearray()
            self.skipping = True

    def end(self, complete):
        if self.ended:
            return
        self.ended = True
        if self.stream:
            self.feed(b"\n")
            self.call.stream_done(complete)
            return
        try:
            document = json.loads(bytes(self.buffer).decode("utf-8"))
        except ValueError:
            document = None
        self.call.done(document)


def _observe(resp, call):
    """Wraps the response's read methods on this instance only; the outermost call is the one that counts (read
    with a size goes through readinto, readline through peek and read)."""
    if resp.status >= 400:
        call.failed(http.client.HTTPException("HTTP %d %s" % (resp.status, resp.reason)))
        return
    watcher = _Observer(resp, call)

    def wrap(name, result_bytes):
        original = getattr(resp, name)

        def observed(*args, **kwargs):
            watcher.depth += 1
            try:
                result = original(*args, **kwargs)
            except Exception as e:
                if watcher.depth == 1 and not watcher.ended:
                    watcher.ended = True
                    call.failed(e)
                raise
            finally:
                watcher.depth -= 1
            if watcher.depth == 0 and not watcher.ended:
                data = result_bytes(args, result)
                watcher.feed(data)
                if not data or resp.fp is None:
                    watcher.end(True)
            return result
        setattr(resp, name, observed)

    as_bytes = lambda _args, result: bytes(result or b"")  # noqa: E731
    filled = lambda args, n: bytes(memoryview(args[0])[:n]) if n else b""  # noqa: E731
    for name in ("read", "read1", "readline"):
        wrap(name, as_bytes)
    for name in ("readinto", "readinto1"):
        wrap(name, filled)
    close = resp.close

    def closed():
        try:
            close()
        finally:
            watcher.end(False)  # closed before its end: a stream is marked incomplete
    resp.close = closed


def install():
    """Patches http.client once in this process."""
    if _installed:
        return
    _installed.append(True)
    request, getresponse = http.client.HTTPConnection.request, http.client.HTTPConnection.getresponse

    def traced_request(self, method, url, body=None, headers=None, **kwargs):
        try:
            self._flowsession_call = _start(self, method, url, body, headers)
        except Exception:
            self._flowsession_call = None  # tracing never breaks the caller's request
        try:
            if headers is None:
                return request(self, method, url, body, **kwargs)
            return request(self, method, url, body, headers, **kwargs)
        except Exception as e:
            call = self.__dict__.pop("_flowsession_call", None)
            if call is not None:
                call.failed(e)
            raise

    def traced_getresponse(self):
        call = self.__dict__.pop("_flowsession_call", None)
        if call is None:
            return getresponse(self)
        try:
            resp = getresponse(self)
        except Exception as e:
            call.failed(e)
            raise
        try:
            _observe(resp, call)
        except Exception:
            pass  # the answer reaches the caller untraced rather than not at all
        return resp

    http.client.HTTPConnection.request = traced_request
    http.client.HTTPConnection.getresponse = traced_getresponse
