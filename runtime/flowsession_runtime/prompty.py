"""Prompty: a prompt template with its model configuration, run as a flow or called from code.

The host parses each .prompty file of the flow folder (the runtime has no YAML parser) and sends its front matter
as JSON with the request; `documents` holds them by path relative to the flow folder. `${env:VAR}` values come from
the host's environment per request (`env_values`), never from the container's. The HTTP call is the llm tool's.
"""
import dataclasses
import inspect
import json
import os
import re
import sys

from . import images, llm, prompty_chat, token_estimate
from .wire import RuntimeFailure

_ENV_REF = re.compile(r"^\$\{env:([^}]+)\}$", re.I)
# prompt flow's image text: `data:image/png;path: ./cat.png` (or `;url: …`, `;base64: …`), read as an image
_IMAGE_TEXT = re.compile(r"^data:image/([^;]*);(path|base64|url):\s*(.*)$", re.S)
_REFERENCE = re.compile(r"^\$\{(\w+):(.*)\}$")
# what a request sends: relative path -> {"config": front matter, "template": text, "templateLine": n}
documents = {}
env_values = {}
connections = {}
flow_root = None
llm_timeout = 600.0
redact = None

# prompt flow reads these when a configuration names neither a connection nor an endpoint (Connection.from_env)
AZURE_FROM_ENV = {"azure_endpoint": "AZURE_OPENAI_ENDPOINT", "api_key": "AZURE_OPENAI_API_KEY",
                  "api_version": "OPENAI_API_VERSION"}
OPENAI_FROM_ENV = {"api_key": "OPENAI_API_KEY", "base_url": "OPENAI_BASE_URL"}


class MissingRequiredInputError(Exception):
    pass


class InvalidOutputKeyError(Exception):
    pass


class InvalidSampleError(Exception):
    pass


class UnknownConnectionType(Exception):
    pass


def configure(params, flow_dir, timeout=600.0, redactor=None):
    """The request's prompty documents, environment values and connections, for every Prompty of this process."""
    global documents, env_values, connections, flow_root, llm_timeout, redact
    documents = params.get("prompty") if isinstance(params.get("prompty"), dict) else {}
    env_values = params.get("envValues") if isinstance(params.get("envValues"), dict) else {}
    connections = params.get("connections") if isinstance(params.get("connections"), dict) else {}
    flow_root = os.path.realpath(flow_dir)
    llm_timeout = timeout
    redact = redactor
    install_in_real_package()


def install_in_real_package():
    """With the real promptflow package installed, its Prompty reads connections from prompt flow's own store and
    `${env:…}` from the container's environment, and the session puts neither there: the session's Prompty takes
    its place in `promptflow.core` (the shim's is already this one)."""
    try:
        import promptflow
        if getattr(promptflow, "__flowsession_shim__", False):
            return
        import promptflow.core as core
    except Exception:
        return
    core.Prompty = SessionPrompty
    core.AsyncPrompty = SessionAsyncPrompty
    flow_module = sys.modules.get("promptflow.core._flow")
    if flow_module is not None:
        flow_module.Prompty = SessionPrompty
        flow_module.AsyncPrompty = SessionAsyncPrompty


def secrets(params):
    """What a request carries that may be a key, for redaction: the environment values, and the key fields of the
    init values (a model configuration given with its api_key)."""
    from .connections import SECRET_FIELDS
    values = params.get("envValues")
    out = [v for v in values.values() if isinstance(v, str)] if isinstance(values, dict) else []

    def walk(v):
        if isinstance(v, dict):
            for k, item in v.items():
                if k in SECRET_FIELDS and isinstance(item, str):
                    out.append(item)
                else:
                    walk(item)

    walk(params.get("init"))
    return out


def env_value(value):
    """`${env:NAME}` -> the host's value of NAME for this request (the text as is when the host has none)."""
    if not isinstance(value, str):
        return value
    m = _ENV_REF.match(value.strip())
    if not m:
        return value
    name = m.group(1)
    if name in env_values:
        return env_values[name]
    return os.environ.get(name, value)


def document(source):
    """The parsed .prompty at `source` (a path, absolute or relative to the working folder)."""
    path = os.path.realpath(os.fspath(source))
    if not os.path.exists(path):
        raise RuntimeFailure("UserErrorException", "Source %s does not exist" % path)
    if not path.endswith(".prompty"):
        raise RuntimeFailure("UserErrorException", "Source must be a file with .prompty extension.")
    root = flow_root or os.getcwd()
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    doc = documents.get(rel)
    if doc is None:
        doc = _parse_with_yaml(path)
    if doc is None:
        raise RuntimeFailure("UserErrorException", (
            "The prompty '%s' was not sent with this request: only .prompty files inside the flow folder (or its "
            "additional includes) are read by the session, where no YAML parser is installed." % rel))
    if doc.get("error"):
        raise RuntimeFailure("UserErrorException", "The prompty '%s' cannot be read: %s" % (rel, doc["error"]))
    return doc


def _parse_with_yaml(path):
    """A .prompty the host did not send, read with PyYAML when the session has it (the real promptflow brings it)."""
    try:
        import yaml
    except ImportError:
        return None
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^\s*-{3,}\n(.*?)\n-{3,}\n(.*)$", text, re.S)  # blank lines may come first
    if not m:
        return {"error": "it does not start with YAML front matter between --- lines."}
    return {"config": yaml.safe_load(m.group(1)) or {}, "template": m.group(2), "templateLine": 1}


def _merge(origin, override):
    out = dict(origin or {})
    for k, v in (override or {}).items():
        out[k] = _merge(out.get(k) if isinstance(out.get(k), dict) else {}, v) if isinstance(v, dict) else v
    return out


def _configuration_dict(conf):
    """A model configuration (a dict, or prompt flow's or the shim's configuration object) as a dict."""
    if isinstance(conf, dict):
        return dict(conf)
    if dataclasses.is_dataclass(conf):
        d = {k: v for k, v in dataclasses.asdict(conf).items() if v is not None}
        name = type(conf).__name__
        d["type"] = "azure_openai" if name.startswith("AzureOpenAI") else "openai"
        return d
    raise UnknownConnectionType("model.configuration must be a mapping or a model configuration object.")


def connection_for(conf, who):
    """(connection spec for llm.endpoint, connection name for messages) of a model configuration."""
    conf = _configuration_dict(conf)
    ctype = str(conf.get("type") or "")
    azure = ctype in ("azure_openai", "AzureOpenAI")
    if not azure and ctype not in ("openai", "OpenAI"):
        raise UnknownConnectionType(
            "Not Support connection type %s for the prompty. Connection type should be in [azure_openai, openai]."
            % (ctype or "(none)"))
    name = conf.get("connection")
    if isinstance(name, str) and name:
        spec = connections.get(name)
        if not isinstance(spec, dict):
            raise RuntimeFailure("ConnectionNotFound", (
                "Connection '%s' used by %s is not set for this run. Set it with 'Flow Session: Set Connection…' "
                "(or --connections for the CLI).") % (name, who))
        return spec, name
    values = {k: env_value(v) for k, v in conf.items()}
    defaults = AZURE_FROM_ENV if azure else OPENAI_FROM_ENV
    if not (values.get("azure_endpoint") if azure else values.get("api_key")):
        for field, var in defaults.items():
            if not values.get(field) and var in env_values:
                values[field] = env_values[var]
    if azure:
        spec = {"type": "AzureOpenAIConnection", "api_base": values.get("azure_endpoint") or "",
                "api_key": values.get("api_key") or "", "api_version": values.get("api_version") or "2024-02-01"}
    else:
        spec = {"type": "OpenAIConnection", "api_key": values.get("api_key") or "",
                "base_url": values.get("base_url") or "https://api.openai.com/v1"}
        if values.get("organization"):
            spec["organization"] = values["organization"]
    return spec, "%s model configuration" % ("azure_openai" if azure else "openai")


def load_sample(sample, base_dir):
    if not sample:
        return {}
    if isinstance(sample, dict):
        return sample
    if isinstance(sample, str) and sample.lower().endswith(".json"):
        path = os.path.join(base_dir, sample)
        if not os.path.isfile(path):
            raise InvalidSampleError("Cannot find sample file %s." % sample)
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    raise InvalidSampleError("Only dict and json file are supported as sample in prompty.")


def resolve_references(value, base_dir):
    """`${env:NAME}` (the host's value for this request, None when it has none) and `${file:path}` (a .json file
    loaded, another file's text) anywhere in the front matter, as prompt flow's resolve_references reads them."""
    if isinstance(value, dict):
        return {k: resolve_references(v, base_dir) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_references(v, base_dir) for v in value]
    if not isinstance(value, str):
        return value
    m = _REFERENCE.match(value.strip())
    if not m:
        return value
    kind, ref = m.group(1).lower(), m.group(2)
    if kind == "env":
        return env_values.get(ref, os.environ.get(ref))
    if kind == "file":
        path = os.path.join(base_dir, ref)
        try:
            with open(path, encoding="utf-8") as f:
                return json.load(f) if path.lower().endswith(".json") else f.read()
        except (OSError, ValueError) as e:
            raise InvalidSampleError("Cannot read the file %s: %s" % (ref, e))
    return value


class PromptyCall:
    """A loaded prompty: its configuration merged with overrides, called with keyword inputs."""

    def __init__(self, doc, path, model=None, **overrides):
        raw = doc.get("config") or {}
        # `sample` is read only when the prompty is called without inputs, as prompt flow does: a sample file that
        # is not there does not fail a call that gives its inputs
        config = {k: v for k, v in raw.items() if k != "sample"}
        config = _merge(resolve_references(config, os.path.dirname(path)), overrides)
        if "sample" in raw:
            config.setdefault("sample", raw["sample"])
        config["model"] = _merge(config.get("model") or {}, _model_override(model))
        self.config = config
        self.template = doc.get("template") or ""
        self.path = path
        self.name = config.get("name") or os.path.splitext(os.path.basename(path))[0]
        self.model = config.get("model") or {}
        self.inputs_def = config.get("inputs") if isinstance(config.get("inputs"), dict) else {}
        self.outputs_def = config.get("outputs") if isinstance(config.get("outputs"), dict) else {}
        self.sample = config.get("sample")

    def sample_inputs(self):
        base = os.path.dirname(self.path)
        return load_sample(resolve_references(self.sample, base), base)

    def resolve_inputs(self, given):
        resolved, missing = {}, []
        for name, spec in self.inputs_def.items():
            spec = spec if isinstance(spec, dict) else {}
            if name in given:
                resolved[name] = given[name]
            elif "default" in spec:
                resolved[name] = spec["default"]
            else:
                missing.append(name)
        if missing:
            raise MissingRequiredInputError("Missing required inputs: %s" % missing)
        # inputs the front matter does not declare still reach the template, as prompt flow renders them too
        for k, v in given.items():
            resolved.setdefault(k, v)
        return resolved

    def load_images(self, inputs):
        """Inputs of type image made images (a path relative to the prompty, a URL, a data URL or prompt flow's
        `{"data:image/png;path": …}` forms; an image already loaded stays), and any text input written as prompt
        flow's image text (`data:image/png;path: cat.png`), as its Prompty reads them."""
        base = os.path.dirname(self.path)
        out = images.load_flow_inputs(self.inputs_def, inputs, base)
        for key, value in out.items():
            m = _IMAGE_TEXT.match(value) if isinstance(value, str) else None
            if m:
                try:
                    out[key] = images.create_image({"data:image/%s;%s" % m.group(1, 2): m.group(3).strip()}, base)
                except Exception as e:
                    raise RuntimeFailure("LoadMultimediaDataError", "Failed to load image for input '%s': (%s) %s"
                                         % (key, type(e).__name__, e))
        return out

    def _prompt(self, inputs):
        """The inputs (the sample's when none are given) and the prompt they render: chat messages or text."""
        inputs = self.load_images(self.resolve_inputs(inputs or self.sample_inputs()))
        if (self.model.get("api") or "chat").lower() == "chat":
            return prompty_chat.build_messages(self.template, inputs)
        return prompty_chat.render_prompt(self.template, inputs)

    def render(self, *args, **kwargs):
        """prompt flow's `Prompty.render`: the prompt the model would get, as text (a chat's messages as their list)."""
        if args:
            raise RuntimeFailure("UserErrorException", "Prompty can only be rendered with keyword arguments.")
        return str(self._prompt(kwargs))

    def estimate_token_count(self, *args, **kwargs):
        """prompt flow's `Prompty.estimate_token_count`: the prompt's tokens plus the `max_tokens` the answer may take."""
        if args:
            raise RuntimeFailure("UserErrorException", "Prompty can only be rendered with keyword arguments.")
        prompt = self._prompt(kwargs)
        max_tokens = (self.model.get("parameters") or {}).get("max_tokens")
        if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens <= 1):
            raise RuntimeFailure("ParseConnectionError", "Max_token needs to be an integer greater than 1, got %r."
                                 % (max_tokens,))
        conf = _configuration_dict(self.model.get("configuration") or {})
        model = env_value(conf.get("model")) or env_value(conf.get("azure_deployment"))
        if isinstance(prompt, list):
            count = token_estimate.message_tokens(prompt, model)
        else:
            count = token_estimate.text_tokens(prompt, model)
        return count + (max_tokens or 0)

    def __call__(self, *args, **kwargs):
        if args:
            raise RuntimeFailure("UserErrorException", "Prompty can only be called with keyword arguments.")
        inputs = kwargs or self.sample_inputs()
        inputs = self.load_images(self.resolve_inputs(inputs))
        api = (self.model.get("api") or "chat").lower()
        params = dict(self.model.get("parameters") or {})
        conf = self.model.get("configuration") or {}
        spec, conn_name = connection_for(conf, "the prompty '%s'" % self.name)
        conf_dict = _configuration_dict(conf)
        deployment = env_value(conf_dict.get("azure_deployment"))
        model_name = env_value(conf_dict.get("model")) or deployment
        if api == "chat":
            body = {"messages": prompty_chat.build_messages(self.template, inputs)}
        else:
            body = {"prompt": prompty_chat.render_prompt(self.template, inputs)}
        path = "chat/completions" if api == "chat" else "completions"
        url, headers, target = llm.endpoint(spec, conn_name, path, deployment, model_name, "The prompty")
        body.update(target)
        body.update(params)
        stream = bool(params.get("stream"))
        response_format = params.get("response_format") if isinstance(params.get("response_format"), dict) else {}
        is_json = response_format.get("type") == "json_object"
        scrub = redact or (lambda t: t)
        usage = llm.asks_stream_usage(spec)
        if (self.model.get("response") or "first") == "all":
            if stream:
                return llm.post_stream(url, body, headers, llm_timeout, conn_name, scrub, api, usage)
            return WholeResponse.of(llm.post(url, body, headers, llm_timeout, conn_name, scrub))
        if stream:
            chunks = llm.post_stream(url, body, headers, llm_timeout, conn_name, scrub, api, usage)
            if not is_json:
                return chunks
            return self._format("".join(chunks), is_json)
        response = llm.post(url, body, headers, llm_timeout, conn_name, scrub)
        choice = llm.first_choice(response, scrub)
        if api == "completion":
            return self._format(choice.get("text", ""), is_json)
        message = choice.get("message") or {}
        if choice.get("finish_reason") in ("tool_calls", "function_call"):
            return message  # the model asks for a tool: prompt flow returns the whole message
        return self._format(message.get("content") or "", is_json)

    def _format(self, content, is_json):
        if not is_json:
            return content
        try:
            result = json.loads(content)
        except ValueError as e:
            raise llm.LLMError("The model's answer is not the JSON object response_format asks for: %s" % e)
        if not self.outputs_def:
            return result
        out = {}
        for key in self.outputs_def:
            if not isinstance(result, dict) or key not in result:
                raise InvalidOutputKeyError("Cannot find %s in response %s" % (
                    key, list(result.keys()) if isinstance(result, dict) else type(result).__name__))
            out[key] = result[key]
        return out


class WholeResponse(dict):
    """The API's whole answer (`response: all`) as prompt flow's Prompty returns it, the openai package's object:
    read by attribute (`r.choices[0].message.content`) or `model_dump()`, and still a dict (JSON, `r["choices"]`)."""

    @classmethod
    def of(cls, value):
        if isinstance(value, dict):
            return cls({k: cls.of(v) for k, v in value.items()})
        if isinstance(value, list):
            return [cls.of(v) for v in value]
        return value

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def model_dump(self, **_kwargs):
        return json.loads(json.dumps(self))


def _model_override(model):
    if not model:
        return {}
    model = dict(model)
    conf = model.get("configuration")
    if conf is not None and not isinstance(conf, dict):
        model["configuration"] = _configuration_dict(conf)
    return model


def load(source, model=None, **kwargs):
    """`Prompty.load(source=...)` for the shim and for a prompty run as a flow."""
    path = os.path.realpath(os.fspath(source))
    return PromptyCall(document(path), path, model=model, **kwargs)


class SessionPrompty:
    """`Prompty.load(source=...)(**inputs)` as promptflow.core offers it, answered by the session: the template
    rendered here, the model called over the OpenAI-compatible API with the request's connections and env values."""

    def __init__(self, path, model=None, **kwargs):
        self._call = load(path, model=model, **kwargs)
        self._name = self._call.name

    @classmethod
    def load(cls, source, raise_error=True, **kwargs):
        return cls(os.fspath(source), **kwargs)

    def __call__(self, *args, **kwargs):
        return self._call(*args, **kwargs)

    def render(self, *args, **kwargs):
        return self._call.render(*args, **kwargs)

    def estimate_token_count(self, *args, **kwargs):
        return self._call.estimate_token_count(*args, **kwargs)


class SessionAsyncPrompty(SessionPrompty):
    """`AsyncPrompty`: awaited; a streamed answer comes as an async generator, as prompt flow's does."""

    async def __call__(self, *args, **kwargs):
        result = self._call(*args, **kwargs)
        if inspect.isgenerator(result):
            return _async_chunks(result)
        return result


async def _async_chunks(chunks):
    for chunk in chunks:
        yield chunk
