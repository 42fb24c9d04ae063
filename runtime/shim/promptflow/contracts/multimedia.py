"""prompt flow's image type (`promptflow.contracts.multimedia`), for sessions without the promptflow package:
bytes that know their mime type, so tools written for prompt flow take `Image` inputs and return them unchanged."""
import base64
import hashlib

# magic numbers of the image formats prompt flow's `filetype` recognises most often
_SIGNATURES = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
]


def guess_mime(value):
    for magic, mime in _SIGNATURES:
        if value.startswith(magic):
            return mime
    if value[:4] == b"RIFF" and value[8:12] == b"WEBP":
        return "image/webp"
    return None


class PFBytes(bytes):
    """Bytes with a mime type and, when fetched from one, the URL they came from."""

    def __new__(cls, value, *args, **kwargs):
        return super().__new__(cls, value)

    def __init__(self, value, mime_type, source_url=None):
        super().__init__()
        self._hash = hashlib.sha1(value).hexdigest()[:8]
        self._mime_type = mime_type.lower()
        self._source_url = source_url

    @property
    def source_url(self):
        return self._source_url

    def to_base64(self, with_type=False):
        encoded = base64.b64encode(self).decode("utf-8")
        return "data:%s;base64,%s" % (self._mime_type, encoded) if with_type else encoded


class Image(PFBytes):
    """An image: its mime type is guessed from its bytes when not given (`image/*` when unknown)."""

    def __init__(self, value, mime_type=None, source_url=None):
        if mime_type is None:
            mime_type = guess_mime(value) or "image/*"
        super().__init__(value, mime_type, source_url)

    def __str__(self):
        return "Image(%s)" % self._hash

    def __repr__(self):
        return "Image(%s)" % self._hash

    def serialize(self, encoder=None):
        return self.__str__() if encoder is None else encoder(self)


class Text(str):
    def __new__(cls, value, annotations=None):
        obj = str.__new__(cls, value)
        obj._annotations = annotations
        return obj
