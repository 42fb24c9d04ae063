"""Connection classes with prompt flow's names, constructors and attributes (promptflow-core's
`promptflow.connections`): fields in `configs`, keys in `secrets`, each readable as an attribute and by
`conn[key]`. Secrets live only in memory and never appear in a repr."""
from promptflow.contracts.types import Secret

__all__ = [
    "OpenAIConnection", "AzureOpenAIConnection", "CustomConnection", "CustomStrongTypeConnection",
    "SerpConnection", "QdrantConnection", "CognitiveSearchConnection", "FormRecognizerConnection",
    "AzureContentSafetyConnection", "WeaviateConnection", "ServerlessConnection", "AzureAIServicesConnection",
]


def _config(key, default=None):
    def get(self):
        return self.configs.get(key, default)

    def put(self, value):
        self.configs[key] = value
    return property(get, put)


class _Connection:
    TYPE = "_NOT_SET"

    def __init__(self, name=None, module="promptflow.connections", configs=None, secrets=None, **kwargs):
        self.name = name
        self.type = self.TYPE
        self.class_name = "%sConnection" % self.TYPE
        self.configs = configs if configs is not None else {}
        self.module = module
        self.secrets = secrets if secrets is not None else {}

    def keys(self):
        return list(self.configs.keys()) + list(self.secrets.keys())

    def __getitem__(self, item):
        if item in self.secrets:
            return self.secrets[item]
        if item in self.configs:
            return self.configs[item]
        raise KeyError("Key %r not found in connection %r." % (item, self.name))

    def __repr__(self):
        return "%s(name=%r)" % (type(self).__name__, self.name)  # never the secrets


class _StrongTypeConnection(_Connection):
    @property
    def api_key(self):
        return self.secrets.get("api_key")

    @api_key.setter
    def api_key(self, value):
        self.secrets["api_key"] = value


class AzureOpenAIConnection(_StrongTypeConnection):
    TYPE = "AzureOpenAI"
    api_base = _config("api_base")
    api_type = _config("api_type")
    api_version = _config("api_version")
    auth_mode = _config("auth_mode", "key")

    def __init__(self, api_base=None, api_key=None, api_type="azure", api_version="2024-02-01", auth_mode="key",
                 **kwargs):
        configs = {"api_base": api_base, "api_type": api_type, "api_version": api_version, "auth_mode": auth_mode}
        secrets = {"api_key": api_key} if auth_mode == "key" else {}
        super().__init__(configs=configs, secrets=secrets, **kwargs)


class OpenAIConnection(_StrongTypeConnection):
    TYPE = "OpenAI"
    organization = _config("organization")
    base_url = _config("base_url")

    def __init__(self, api_key=None, organization=None, base_url=None, **kwargs):
        if base_url in ("", "_"):
            base_url = None
        super().__init__(configs={"organization": organization, "base_url": base_url},
                         secrets={"api_key": api_key}, **kwargs)


class ServerlessConnection(_StrongTypeConnection):
    TYPE = "Serverless"
    api_base = _config("api_base")

    def __init__(self, api_key=None, api_base=None, **kwargs):
        super().__init__(secrets={"api_key": api_key}, configs={"api_base": api_base}, **kwargs)


class SerpConnection(_StrongTypeConnection):
    TYPE = "Serp"

    def __init__(self, api_key=None, **kwargs):
        super().__init__(secrets={"api_key": api_key}, **kwargs)


class _EmbeddingStoreConnection(_StrongTypeConnection):
    api_base = _config("api_base")

    def __init__(self, api_key=None, api_base=None, **kwargs):
        kwargs.setdefault("module", "promptflow_vectordb.connections")
        super().__init__(configs={"api_base": api_base}, secrets={"api_key": api_key}, **kwargs)


class QdrantConnection(_EmbeddingStoreConnection):
    TYPE = "Qdrant"


class WeaviateConnection(_EmbeddingStoreConnection):
    TYPE = "Weaviate"


class CognitiveSearchConnection(_StrongTypeConnection):
    TYPE = "CognitiveSearch"
    api_base = _config("api_base")
    api_version = _config("api_version")
    auth_mode = _config("auth_mode", "key")

    def __init__(self, api_key=None, api_base=None, api_version="2023-11-01", auth_mode="key", **kwargs):
        secrets = {"api_key": api_key} if auth_mode == "key" else {}
        super().__init__(configs={"api_base": api_base, "api_version": api_version, "auth_mode": auth_mode},
                         secrets=secrets, **kwargs)


class AzureContentSafetyConnection(_StrongTypeConnection):
    TYPE = "AzureContentSafety"
    endpoint = _config("endpoint")
    api_version = _config("api_version")
    api_type = _config("api_type")

    def __init__(self, api_key=None, endpoint=None, api_version="2023-10-01", api_type="Content Safety", **kwargs):
        super().__init__(configs={"endpoint": endpoint, "api_version": api_version, "api_type": api_type},
                         secrets={"api_key": api_key}, **kwargs)


class FormRecognizerConnection(AzureContentSafetyConnection):
    TYPE = "FormRecognizer"

    def __init__(self, api_key=None, endpoint=None, api_version="2023-07-31", api_type="Form Recognizer", **kwargs):
        super().__init__(api_key=api_key, endpoint=endpoint, api_version=api_version, api_type=api_type, **kwargs)


class AzureAIServicesConnection(_StrongTypeConnection):
    TYPE = "AzureAIServices"
    endpoint = _config("endpoint")
    auth_mode = _config("auth_mode", "key")

    def __init__(self, endpoint=None, api_key=None, auth_mode="key", **kwargs):
        secrets = {"api_key": api_key} if auth_mode == "key" else {}
        super().__init__(configs={"endpoint": endpoint, "auth_mode": auth_mode}, secrets=secrets, **kwargs)


class CustomConnection(_Connection):
    TYPE = "Custom"

    def __init__(self, secrets=None, configs=None, **kwargs):
        super().__init__(secrets=dict(secrets or {}), configs=dict(configs or {}), **kwargs)

    def __getattr__(self, item):
        # only reached for names that are not real attributes: a key of secrets, then of configs
        if item in ("secrets", "configs"):
            return object.__getattribute__(self, item)
        if item in self.secrets:
            return self.secrets[item]
        if item in self.configs:
            return self.configs[item]
        raise AttributeError(item)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def is_secret(self, item):
        return item in self.secrets


class CustomStrongTypeConnection(_Connection):
    """Base of a typed custom connection: fields annotated `Secret` are secrets, the other annotated fields configs."""

    def __init__(self, secrets=None, configs=None, **kwargs):
        configs = dict(configs or {})
        custom_type = kwargs.get("custom_type")
        custom_module = kwargs.get("module")
        if custom_type:
            configs["promptflow.connection.custom_type"] = custom_type
        if custom_module:
            configs["promptflow.connection.module"] = custom_module
        object.__setattr__(self, "kwargs", kwargs)
        super().__init__(configs=configs, secrets=dict(secrets or {}), **kwargs)
        object.__setattr__(self, "module", kwargs.get("module", type(self).__module__))
        object.__setattr__(self, "custom_type", custom_type or type(self).__name__)
        object.__setattr__(self, "package", kwargs.get("package"))
        object.__setattr__(self, "package_version", kwargs.get("package_version"))

    def __getattribute__(self, item):
        # annotated fields come from the connection even when the class gives them a default value
        annotations = getattr(object.__getattribute__(self, "__class__"), "__annotations__", {})
        if item in annotations:
            if annotations[item] is Secret or annotations[item] == "Secret":
                return object.__getattribute__(self, "secrets")[item]
            return object.__getattribute__(self, "configs")[item]
        return object.__getattribute__(self, item)

    def __setattr__(self, key, value):
        annotations = getattr(type(self), "__annotations__", {})
        if key in annotations:
            if annotations[key] is Secret or annotations[key] == "Secret":
                self.secrets[key] = value
            else:
                self.configs[key] = value
            return
        object.__setattr__(self, key, value)
