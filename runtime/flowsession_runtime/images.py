"""prompt flow's image values: flow inputs of type `image` (a path, a URL, a data URI, or the
`{"data:image/png;path|url|base64": …}` dict forms) become `promptflow.contracts.multimedia.Image` (the installed
package's class, else the shim's). Images in results travel as `{"data:<mime>;base64": …}` (wire.py), and the
client stores them as files, as prompt flow does."""
import base64
import binascii
import os
import re
import urllib.parse
import urllib.request

from .wire import RuntimeFailure

MIME_KEY = re.compile(r"^data:image/(.*);(path|base64|url)$")
_DATA_URI = re.compile(r"^data:image/([^;,]*);base64,(.*)$", re.S)
_BASE64 = re.compile(r"^([A-Za-z0-9+/]{4})*(([A-Za-z0-9+/]{2})*(==|[A-Za-z0-9+/]=)?)?$")
URL_TIMEOUT_SECONDS = 30
MAX_IMAGE_BYTES = 64 << 20


def image_class():
    from promptflow.contracts.multimedia import Image

    return Image


def is_image(value):
    return isinstance(value, bytes) and hasattr(value, "_mime_type")


def is_multimedia_dict(value):
    return isinstance(value, dict) and len(value) == 1 and isinstance(next(iter(value)), str) \
        and MIME_KEY.match(next(iter(value))) is not None


def _mime(fmt):
    return "image/%s" % fmt if fmt else None


def _from_file(path, base_dir, mime=None):
    full = path if os.path.isabs(path) else os.path.join(base_dir, path)
    if not os.path.isfile(full):
        raise ValueError("the image file '%s' does not exist in the session" % path)
    if os.path.getsize(full) > MAX_IMAGE_BYTES:
        raise ValueError("the image file '%s' is larger than %d MB" % (path, MAX_IMAGE_BYTES >> 20))
    with open(full, "rb") as f:
        return image_class()(f.read(), mime_type=mime)


def _from_base64(text, mime=None):
    m = _DATA_URI.match(text)
    if m:
        mime = mime or _mime(m.group(1))
        text = m.group(2)
    try:
        return image_class()(base64.b64decode(text.split(",")[-1], validate=True), mime_type=mime)
    except (binascii.Error, ValueError):
        raise ValueError("invalid base64 image")


def _from_url(url, mime=None):
    try:
        with urllib.request.urlopen(url, timeout=URL_TIMEOUT_SECONDS) as r:
            data = r.read(MAX_IMAGE_BYTES + 1)
    except Exception as e:
        raise ValueError("failed to fetch image from URL: %s (%s)" % (url, e))
    if len(data) > MAX_IMAGE_BYTES:
        raise ValueError("the image at %s is larger than %d MB" % (url, MAX_IMAGE_BYTES >> 20))
    return image_class()(data, mime_type=mime, source_url=url)


def _is_url(text):
    try:
        parsed = urllib.parse.urlparse(text)
    except ValueError:
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def _is_base64(text):
    parts = text.split(",")
    if len(parts) == 2:
        return bool(re.match(r"^data:image/(.*);base64", parts[0])) and bool(_BASE64.match(parts[1]))
    return len(parts) == 1 and bool(_BASE64.match(text))


def create_image(value, base_dir):
    """prompt flow's MultimediaProcessor.create_image: an image value made an Image; paths relative to base_dir."""
    if is_image(value):
        return value
    if isinstance(value, dict):
        if not is_multimedia_dict(value):
            raise ValueError("Invalid image input format. The image input should be a dictionary like: "
                             "{data:image/<image_type>;[path|base64|url]: <image_data>}.")
        key, inner = next(iter(value.items()))
        fmt, resource = MIME_KEY.match(key).groups()
        if not isinstance(inner, str):
            raise ValueError("the value of '%s' must be a string" % key)
        if resource == "path":
            return _from_file(inner, base_dir, _mime(fmt))
        if resource == "url":
            return _from_url(inner, _mime(fmt))
        if not _is_base64(inner):
            raise ValueError("Invalid base64 image.")
        return _from_base64(inner, _mime(fmt))
    if isinstance(value, str):
        if not value:
            raise ValueError("The image input should not be empty.")
        if _is_base64(value):
            return _from_base64(value)
        if _is_url(value):
            return _from_url(value)
        return _from_file(value, base_dir)
    raise ValueError("Unsupported image input type: %s. The image inputs should be a string or a dictionary."
                     % type(value).__name__)


def load_within(value, base_dir):
    """Image dicts inside a list or object input made Images, as prompt flow loads them recursively."""
    if isinstance(value, list):
        return [load_within(v, base_dir) for v in value]
    if isinstance(value, dict):
        if is_multimedia_dict(value):
            return create_image(value, base_dir)
        return {k: load_within(v, base_dir) for k, v in value.items()}
    return value


def may_load(definitions):
    """Whether load_flow_inputs can change anything of inputs so defined (no image, list or object input: it cannot)."""
    return any(isinstance(spec, dict) and spec.get("type") in ("image", "list", "object")
               for spec in (definitions or {}).values())


def load_flow_inputs(definitions, values, base_dir):
    """The flow inputs with image values loaded: `image` inputs, and image dicts inside list and object inputs."""
    out = dict(values)
    for key, spec in (definitions or {}).items():
        value_type = spec.get("type") if isinstance(spec, dict) else None
        if key not in out or out[key] is None:
            continue
        try:
            if value_type == "image":
                v = out[key]
                out[key] = [create_image(i, base_dir) for i in v] if isinstance(v, list) else create_image(v, base_dir)
            elif value_type in ("list", "object"):
                out[key] = load_within(out[key], base_dir)
        except Exception as e:
            raise RuntimeFailure("LoadMultimediaDataError", "Failed to load image for input '%s': (%s) %s"
                                 % (key, type(e).__name__, e))
    return out

