"""The built-in llm tool: render the jinja2 prompt, call OpenAI or Azure OpenAI over HTTP (urllib)."""
import ast
import json
import re
import socket
import time
import urllib.error
import urllib.request

from . import http_calls, inputs as inputs_mod, templates, tracing
from .llm_params import LLM_PARAMS

VALID_ROLES = ["system", "user", "assistant", "function", "tool"]
_SEPARATOR = re.compile(r"(?i)^\s*#?\s*(" + "|".join(VALID_ROLES) + r")\s*:\s*\n", re.M)
# A markdown-style "# word:" line alone is meant as a role marker; prompt flow would silently fold
# it into the previous message, which hides the mistake.
_ROLE_LIKE = re.compile(r"^\s*#\s*([A-Za-z_][\w-]*)\s*:\s*$", re.M)
_SUB_MARKERS = {"name", "content", "tool_call_id", "tool_calls"}
RETRY_STATUSES = (429, 500, 502, 503, 504)


class ChatAPIInvalidRole(Exception):
    pass


class ChatAPIFunctionRoleInvalidFormat(Exception):
    pass


class ChatAPIToolRoleInvalidFormat(Exception):
    pass


class WrappedOpenAIError(Exception):
    pass


class LLMError(Exception):
    pass


class InvalidConnectionType(Exception):
    pass


def _invalid_role(role):
    roles = ",".join("'%s:\\n'" % r for r in VALID_ROLES)
    return ChatAPIInvalidRole(
        "The Chat API requires a specific format for prompt definition, and the prompt should include separate "
        "lines as role delimiters: %s. Current parsed role '%s' does not meet the requirement. If you intend to use "
        "the Completion API, please select the appropriate API type and deployment name. If you do intend to use "
        "the Chat API, please refer to the guideline at https://aka.ms/pfdoc/chat-prompt or view the samples in our "
        "gallery that contain 'Chat' in the name." % (roles, role))


def _name_and_content(chunk, key):
    m = re.search(r"\n*#{0,2}\s*" + key + r"\s*:\s*\n+\s*(\S+)\s*\n*#{0,2}\s*content\s*:\s*\n?(.*)", chunk, re.S)
    return (m.group(1), m.group(2)) if m else None


def parse_chat(text):
    """Messages from a rendered chat prompt, following promptflow-tools' parse_chat."""
    for m in _ROLE_LIKE.finditer(text):
        word = m.group(1).lower()
        if word not in VALID_ROLES and word not in _SUB_MARKERS:
            raise _invalid_role(word)
    chunks = _SEPARATOR.split(text)
    messages = []
    for chunk in chunks:
        last = messages[-1] if messages else None
        if last is not None and last["role"] == "tool" and "content" not in last:
            parsed = _name_and_content(chunk, "tool_call_id")
            if parsed is None:
                raise ChatAPIToolRoleInvalidFormat(
                    "Failed to parse tool role prompt. Please make sure the prompt follows the format: "
                    "'tool_call_id:\\ntool_call_id\\ncontent:\\ntool_content'.")
            last["tool_call_id"], last["content"] = parsed[0], parsed[1].strip()
            continue
        if last is not None and last["role"] == "assistant" and "content" not in last:
            m = re.search(r"\n*#{0,2}\s*tool_calls\s*:\s*\n+\s*(\[.*?\])", chunk, re.S)
            if m:
                try:
                    last["tool_calls"] = ast.literal_eval(m.group(1))
                    last["content"] = None
                    continue
                except Exception:
                    pass
        if last is not None and "content" not in last:
            parsed = _name_and_content(chunk, "name")
            if parsed is None:
                if last["role"] == "function":
                    raise ChatAPIFunctionRoleInvalidFormat(
                        "Failed to parse function role prompt. Please make sure the prompt follows the format: "
                        "'name:\\nfunction_name\\ncontent:\\nfunction_content'. 'name' is required if role is "
                        "function, and it should be the name of the function whose response is in the content.")
                last["content"] = chunk.strip()
            else:
                last["name"], last["content"] = parsed[0], parsed[1].strip()
            continue
        if chunk.strip() == "":
            continue
        role = chunk.strip().lower()
        if role not in VALID_ROLES:
            raise _invalid_role(role)
        messages.append({"role": role})
    for m in messages:
        m.setdefault("content", "")
    return messages


def _typed_params(values):
    out = {}
    for k, v in values.items():
        if v is None or v == "":
            continue
        t = LLM_PARAMS.get(k)
        try:
            out[k] = inputs_mod.parse_typed(t, v) if t else v
        except Exception:
            raise LLMError("Input '%s' of value '%s' is not type %s." % (k, v, t))
    return out


def call(template_text, inputs, connection, connection_name, api, timeout, redact):
    """Render and send; returns the completion text (or the message when tools/functions are used)."""
    params = {k: v for k, v in inputs.items() if k in LLM_PARAMS}
    variables = {k: v for k, v in inputs.items() if k not in LLM_PARAMS}
    prompt = templates.render(template_text, variables)
    params = _typed_params(params)
    # streamed as prompt flow's llm tool does it: a generator of the answer's text; a tool call is a message, not text
    stream = bool(params.pop("stream", False)) and params.get("functions") is None and params.get("tools") is None
    api = (api or "chat").lower()
    if api not in ("chat", "completion"):
        raise LLMError("The api '%s' is not supported by the llm tool; use 'chat' or 'completion'." % api)
    deployment = params.pop("deployment_name", None)
    model = params.pop("model", None)
    if api == "chat":
        body = {"messages": parse_chat(prompt)}
    else:
        body = {"prompt": prompt}
    path = "chat/completions" if api == "chat" else "completions"
    url, headers, target = endpoint(connection, connection_name, path, deployment, model, "The llm node")
    body.update(target)
    body.update(params)
    if stream:
        return post_stream(url, body, headers, timeout, connection_name, redact, api, asks_stream_usage(connection))
    response = post(url, body, headers, timeout, connection_name, redact)
    if api == "completion":
        return first_choice(response, redact).get("text", "")
    message = first_choice(response, redact).get("message") or {}
    if params.get("functions") is not None or params.get("tools") is not None:
        return message
    return message.get("content") or ""


def endpoint(connection, connection_name, path, deployment, model, who):
    """(url, headers, body fields) of one OpenAI API path (`chat/completions`, `embeddings`, …) on a connection.

    An Azure OpenAI connection addresses a deployment; an OpenAI one names the model in the body. `who` starts
    the message of a missing setting ("The llm node", "The embedding tool").
    """
    ctype = (connection or {}).get("type")
    if ctype == "AzureOpenAIConnection":
        base = (connection.get("api_base") or "").rstrip("/")
        if not base:
            raise LLMError("Connection '%s' has no api_base." % connection_name)
        if not deployment:
            raise LLMError("%s needs 'deployment_name' for an Azure OpenAI connection." % who)
        version = connection.get("api_version") or "2024-02-01"
        url = "%s/openai/deployments/%s/%s?api-version=%s" % (base, deployment, path, version)
        headers, target = {"api-key": connection.get("api_key") or ""}, {}
    elif ctype == "OpenAIConnection":
        base = (connection.get("base_url") or connection.get("api_base") or "https://api.openai.com/v1").rstrip("/")
        model = model or deployment
        if not model:
            raise LLMError("%s needs 'model' for an OpenAI connection." % who)
        url = "%s/%s" % (base, path)
        headers, target = {"Authorization": "Bearer %s" % (connection.get("api_key") or "")}, {"model": model}
        if connection.get("organization"):
            headers["OpenAI-Organization"] = connection["organization"]
    else:
        raise InvalidConnectionType("Connection type %s is not supported for LLM." % ctype)
    headers["Content-Type"] = "application/json"
    return url, headers, target


def first_choice(response, redact):
    try:
        return response["choices"][0]
    except (KeyError, IndexError, TypeError):
        raise LLMError("OpenAI API returned an unexpected response: %s" % redact(json.dumps(response)[:500]))


def connection_spec(connection):
    """The spec dict this module reads, from a connection object a tool received (shim or prompt flow's)."""
    spec = {"type": type(connection).__name__}
    for field in ("api_key", "api_base", "api_version", "base_url", "organization"):
        value = getattr(connection, field, None)
        if isinstance(value, str) and value:
            spec[field] = value
    return spec


def _server_message(raw):
    try:
        data = json.loads(raw)
        err = data.get("error") if isinstance(data, dict) else None
        if isinstance(err, dict) and err.get("message"):
            return err["message"]
        if isinstance(data, dict) and data.get("message"):
            return data["message"]
    except ValueError:
        pass
    return raw.strip()[:500] or "(no message)"


def warm_up():
    """What a process's first call would do once, done before a batch forks its workers so that each inherits it
    instead of paying for it on its first line: urlopen's opener (built here after the run's environment is set, so
    its proxies are the run's, as the first call would build it), the response header parser's first use, and the
    idna codec that resolving a host name loads."""
    import encodings.idna  # noqa: F401
    import http.client
    import io
    urllib.request.install_opener(urllib.request.build_opener())
    http.client.parse_headers(io.BytesIO(b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n"))


def post(url, body, headers, timeout, connection_name, redact):
    """The response of one OpenAI API request, traced as an LLM span of the node that makes it."""
    call = tracing.LLMCall(url, body, headers)
    try:
        response = _post(url, body, headers, timeout, connection_name, redact)
    except Exception as e:
        call.failed(e)
        raise
    call.done(response)
    return response


def _post(url, body, headers, timeout, connection_name, redact):
    resp = send(url, body, headers, timeout, connection_name, redact)
    with resp:
        try:
            return json.loads(_read(resp, timeout).decode("utf-8"))
        except ValueError as e:
            raise LLMError("OpenAI API returned a response that is not JSON: %s" % e)


def _read(resp, timeout):
    try:
        return resp.read()
    except (socket.timeout, TimeoutError):
        raise _timed_out(timeout)


def _timed_out(timeout):
    return WrappedOpenAIError("OpenAI API hits APITimeoutError: Request timed out after %g seconds." % timeout)


def post_stream(url, body, headers, timeout, connection_name, redact, api="chat", usage=False):
    """A streamed call (`stream: true`): a generator of the first choice's text as it arrives (server-sent events),
    traced as one LLM span from the request to the last chunk. `usage`: ask the API to send the token usage in a
    last chunk (`stream_options.include_usage`; see asks_stream_usage)."""
    body = dict(body, stream=True)
    if usage and "stream_options" not in body:
        body["stream_options"] = {"include_usage": True}
    call = tracing.LLMCall(url, body, headers)
    try:
        resp = send(url, body, headers, timeout, connection_name, redact)
    except Exception as e:
        call.failed(e)
        raise
    # sent now, so a refused request fails at once; the answer is read as the generator is consumed
    return stream_text(resp, api, timeout, redact, call)


def asks_stream_usage(connection):
    """Whether a streamed request on `connection` may ask for the usage chunk: OpenAI's API takes
    `stream_options` always, Azure OpenAI's from api-version 2024-09-01 (an older version refuses the field)."""
    ctype = (connection or {}).get("type")
    if ctype == "OpenAIConnection":
        return True
    if ctype == "AzureOpenAIConnection":
        version = str(connection.get("api_version") or "2024-02-01")
        return version[:10] >= "2024-09-01"
    return False


def send(url, body, headers, timeout, connection_name, redact):
    """The open response of a POST that the server accepted (retrying 429 and 5xx); the caller reads and closes it."""
    data = json.dumps(body).encode("utf-8")
    attempts = 3
    for attempt in range(attempts):
        req = urllib.request.Request(url, data=data, headers=headers, method="POST")
        # traced by the caller (post, post_stream): the hook on user code's HTTP calls leaves this one alone
        own = http_calls.own_request()
        try:
            return urllib.request.urlopen(req, timeout=timeout)
        except urllib.error.HTTPError as e:
            raw = e.read().decode("utf-8", "replace")
            message = redact(_server_message(raw))
            if e.code == 401:
                raise WrappedOpenAIError(
                    "OpenAI API hits AuthenticationError: %s (HTTP 401). The api_key of connection '%s' was "
                    "rejected: set the right key with 'Flow Session: Set Connection…' (or --connections for the "
                    "CLI) and run again." % (message, connection_name))
            if e.code in RETRY_STATUSES and attempt < attempts - 1:
                time.sleep(_retry_after(e, attempt))
                continue
            raise WrappedOpenAIError("OpenAI API hits %s: %s (HTTP %d)" % (_status_name(e.code), message, e.code))
        except (socket.timeout, TimeoutError):
            raise _timed_out(timeout)
        except urllib.error.URLError as e:
            if isinstance(e.reason, (socket.timeout, TimeoutError)):
                raise _timed_out(timeout)
            raise WrappedOpenAIError("OpenAI API hits APIConnectionError: %s" % redact(str(e.reason)))
        finally:
            http_calls.end_own_request(own)


def stream_text(resp, api, timeout, redact, call=None):
    """The text of each chunk of a streamed completion as the server sends it: server-sent events, one
    `data: {chunk}` line each, ending with `data: [DONE]`; chunks without choices (the usage chunk) carry no text.
    A server that answered with one JSON document instead (it ignored `stream`) gives its text as one chunk.
    `call` (a tracing.LLMCall) sees every chunk and ends its span at the last one, or where the reader stopped."""
    complete = False
    try:
        for chunk in _stream_chunks(resp, timeout, redact):
            if call is not None:
                call.chunk(chunk)
            if chunk.get("object") == _WHOLE:
                choice = first_choice(chunk["document"], redact)
                if call is not None:
                    call.done(chunk["document"])
                yield ((choice.get("message") or {}).get("content") or "") if api == "chat" else choice.get("text", "")
                continue
            choices = chunk.get("choices") or []
            if not choices or not isinstance(choices[0], dict):
                continue
            if api == "chat":
                text = (choices[0].get("delta") or {}).get("content")
            else:
                text = choices[0].get("text")
            if text:
                yield text
        complete = True
    except Exception as e:
        if call is not None:
            call.failed(e)
        raise
    finally:
        if call is not None:
            call.stream_done(complete)


# the chunk _stream_chunks gives for a server that answered a streamed request with one JSON document
_WHOLE = "flowsession.whole_response"


def _stream_chunks(resp, timeout, redact):
    """The parsed chunks (dicts) of a streamed answer, the response closed at the end."""
    with resp:
        ctype = resp.headers.get("Content-Type") or ""
        if "json" in ctype and "event-stream" not in ctype:
            try:
                whole = json.loads(_read(resp, timeout).decode("utf-8"))
            except ValueError as e:
                raise LLMError("OpenAI API returned a response that is not JSON: %s" % e)
            yield {"object": _WHOLE, "document": whole}
            return
        while True:
            try:
                raw = resp.readline()
            except (socket.timeout, TimeoutError):
                raise _timed_out(timeout)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data:"):
                continue  # blank separators, comments, `event:` lines
            data = line[5:].strip()
            if data == "[DONE]":
                return
            try:
                chunk = json.loads(data)
            except ValueError:
                raise LLMError("OpenAI API sent a stream chunk that is not JSON: %s" % redact(data[:200]))
            if not isinstance(chunk, dict):
                continue
            if chunk.get("error"):
                raise WrappedOpenAIError("OpenAI API hits an error while streaming: %s"
                                         % redact(_server_message(json.dumps(chunk))))
            yield chunk


def _retry_after(e, attempt):
    try:
        return min(float(e.headers.get("Retry-After")), 10.0)
    except (TypeError, ValueError):
        return min(0.5 * (2 ** attempt), 4.0)


def _status_name(code):
    return {400: "BadRequestError", 403: "PermissionDeniedError", 404: "NotFoundError", 409: "ConflictError",
            422: "UnprocessableEntityError", 429: "RateLimitError"}.get(code, "InternalServerError"
                                                                          if code >= 500 else "APIStatusError")
