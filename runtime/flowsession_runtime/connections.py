"""Connection objects for tools, built from the per-request `connections` (secrets never stored)."""
import types

SECRET_FIELDS = ("api_key", "key", "secret", "password", "token")


def secrets_of(connections):
    """Every secret value in the request, for redaction."""
    out = []
    for spec in (connections or {}).values():
        if not isinstance(spec, dict):
            continue
        for k, v in spec.items():
            if k in SECRET_FIELDS and isinstance(v, str):
                out.append(v)
        for v in (spec.get("secrets") or {}).values() if isinstance(spec.get("secrets"), dict) else ():
            if isinstance(v, str):
                out.append(v)
    return out


def build(name, spec):
    """An instance of the promptflow connection class (real package or shim) for a tool parameter."""
    spec = dict(spec or {})
    ctype = spec.pop("type", None) or "CustomConnection"
    try:
        import promptflow.connections as pfc
        cls = getattr(pfc, ctype, None)
    except Exception:
        cls = None
    obj = None
    if cls is not None:
        try:
            if ctype == "CustomConnection":
                secrets = spec.pop("secrets", None)
                configs = spec.pop("configs", None)
                configs = dict(configs or {})
                configs.update({k: v for k, v in spec.items() if k not in SECRET_FIELDS})
                secrets = dict(secrets or {})
                secrets.update({k: v for k, v in spec.items() if k in SECRET_FIELDS})
                obj = cls(secrets=secrets, configs=configs)
            elif ctype == "OpenAIConnection":
                kwargs = {"api_key": spec.get("api_key")}
                if spec.get("organization"):
                    kwargs["organization"] = spec["organization"]
                base = spec.get("base_url") or spec.get("api_base")
                if base:
                    kwargs["base_url"] = base
                obj = cls(**kwargs)
            elif ctype == "AzureOpenAIConnection":
                kwargs = {"api_key": spec.get("api_key"), "api_base": spec.get("api_base")}
                if spec.get("api_version"):
                    kwargs["api_version"] = spec["api_version"]
                obj = cls(**kwargs)
            else:
                obj = cls(**spec)
        except Exception:
            obj = None
    if obj is None:
        obj = types.SimpleNamespace(**spec)
    try:
        obj.name = name
    except Exception:
        pass
    return obj
