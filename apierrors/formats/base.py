"""What a format is: a media type and a function from a normalized error to a body."""

import json
from typing import Any

from django.http import HttpRequest

from ..normalized import NormalizedError

# One encoder for every body: compact, UTF-8 as is. Reused, since building one per response
# costs more than encoding a small body.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
# The string encoder the one above uses, for formats that write their JSON directly.
json_string = json.encoder.encode_basestring


def encode_json(body: Any) -> bytes:
    """``body`` as the compact UTF-8 JSON every error response carries."""
    return _ENCODER.encode(body).encode()


def json_value(value: Any) -> str:
    """One JSON value, for formats that write their JSON directly."""
    kind = type(value)
    if kind is str:
        return json_string(value)
    if kind is int:  # a status or an error code: its repr is its JSON (bool is not int here)
        return int.__repr__(value)
    return _ENCODER.encode(value)


class EncodedTexts(dict):
    """``texts[message]`` is ``message`` as a JSON string, encoded once per body: one message
    usually recurs across a list's items. (A dict lookup; ``__missing__`` only on a miss.)"""

    def __missing__(self, message: str) -> str:
        text = self[message] = json_string(message)
        return text


class EncodedCodes(dict):
    """``codes[code]``: a detail's code as JSON (``null`` for None), encoded once per body."""

    def __missing__(self, code: str | None) -> str:
        encoded = self[code] = "null" if code is None else json_string(code)
        return encoded


class ErrorFormat:
    """Subclass and register by dotted path in ``APIERRORS["FORMATS"]`` to add a format.

    ``render`` is the format: it returns the body. ``render_json`` is only its encoding; the
    built-in formats write it directly (a 1,000-item validation error is then no slower than
    DRF's own), always to the same bytes as ``encode_json(render(...))``.
    """

    name: str = ""
    media_type: str = "application/json"

    def render(self, error: NormalizedError, request: HttpRequest | None) -> dict[str, Any]:
        raise NotImplementedError

    def render_json(self, error: NormalizedError, request: HttpRequest | None) -> bytes:
        """The body as UTF-8 JSON."""
        return encode_json(self.render(error, request))
