"""Connection classes with prompt flow's names and attributes; secrets live only in memory."""

__all__ = [
    "OpenAIConnection", "AzureOpenAIConnection", "CustomConnection", "CustomStrongTypeConnection",
    "SerpConnection", "QdrantConnection", "CognitiveSearchConnection", "FormRecognizerConnection",
    "AzureContentSafetyConnection", "WeaviateConnection", "ServerlessConnection", "AzureAIServicesConnection",
]


class _Connection:
    TYPE = "Connection"

    def __init__(self, secrets=None, configs=None, name=None, **kwargs):
        self.name = name
        self.secrets = dict(secrets or {})
        self.configs = dict(configs or {})
        self.configs.update(kwargs)

    def __getattr__(self, key):
        # Attribute access to fields, as prompt flow's connections allow (conn.api_key).
        d = self.__dict__
        if key in d.get("secrets", {}):
            return d["secrets"][key]
        if key in d.get("configs", {}):
            return d["configs"][key]
        raise AttributeError(key)

    def __repr__(self):
        return "%s(name=%r)" % (type(self).__name__, self.name)  # never the secrets


class _ApiKeyConnection(_Connection):
    def __init__(self, api_key=None, name=None, **configs):
        super().__init__(secrets={"api_key": api_key}, configs=configs, name=name)


class AzureOpenAIConnection(_ApiKeyConnection):
    def __init__(self, api_key=None, api_base=None, api_type="azure", api_version="2024-02-01", name=None, **kw):
        super().__init__(api_key=api_key, name=name, api_base=api_base, api_type=api_type,
                         api_version=api_version, **kw)


class OpenAIConnection(_ApiKeyConnection):
    def __init__(self, api_key=None, organization=None, base_url=None, name=None, **kw):
        super().__init__(api_key=api_key, name=name, organization=organization, base_url=base_url, **kw)


class ServerlessConnection(_ApiKeyConnection):
    def __init__(self, api_key=None, api_base=None, name=None, **kw):
        super().__init__(api_key=api_key, name=name, api_base=api_base, **kw)


class SerpConnection(_ApiKeyConnection):
    pass


class QdrantConnection(_ApiKeyConnection):
    pass


class WeaviateConnection(_ApiKeyConnection):
    pass


class CognitiveSearchConnection(_ApiKeyConnection):
    pass


class FormRecognizerConnection(_ApiKeyConnection):
    pass


class AzureContentSafetyConnection(_ApiKeyConnection):
    pass


class AzureAIServicesConnection(_ApiKeyConnection):
    pass


class CustomConnection(_Connection):
    def __init__(self, secrets=None, configs=None, name=None, **kwargs):
        super().__init__(secrets=secrets, configs=configs, name=name, **kwargs)

    def __getitem__(self, key):
        return getattr(self, key)

    def get(self, key, default=None):
        try:
            return getattr(self, key)
        except AttributeError:
            return default


class CustomStrongTypeConnection(_Connection):
    pass
