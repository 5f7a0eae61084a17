"""What a format is: a media type, a function from a normalized error to a body, and the
body's OpenAPI schema."""

import copy
import json
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from django.http import HttpRequest

from ..dictionary.catalog import Entry
from ..handling.normalized import NormalizedError

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


# -- a long list whose items fail alike (a list serializer's 1,000 items) ------------------
# Written with a few C-level string operations over the whole list instead of a Python loop
# per item; the built-in formats fall back to their loop whenever the conditions don't hold.

LONG_LIST = 16  # shorter lists: the loop is as fast
_SEP = "\x1f"  # a control character: JSON writes it as \u001f, and nothing else becomes that
_SEP_JSON = "\\u001f"
_path, _message, _code = itemgetter(0), itemgetter(1), itemgetter(2)


def alike(details: Sequence[tuple[Any, Any, Any]]) -> tuple[Any, Any] | None:
    """(message, code) shared by every detail, or None (no Python-level loop)."""
    messages = list(map(_message, details))
    if messages.count(messages[0]) != len(messages):
        return None
    codes = list(map(_code, details))
    if codes.count(codes[0]) != len(codes):
        return None
    return messages[0], codes[0]


def spliced_paths(
    details: Sequence[tuple[Any, Any, Any]], between: str, *, pointer: bool = False
) -> str | None:
    """Every detail's path as JSON string content (no quotes), ``between`` between each
    two, encoded in one go; with ``pointer``, as JSON pointer tokens (``items.0.email`` →
    ``items/0/email``). None when a path is empty or could make that ambiguous (the
    separator, a backslash, or for a pointer the characters it escapes)."""
    paths = list(map(_path, details))
    joined = _SEP.join(paths)  # TypeError if a path is not text: the caller's fallback
    if (
        "\\" in joined
        or joined.count(_SEP) != len(paths) - 1
        or "" in paths
        or (pointer and ("/" in joined or "~" in joined))
    ):
        return None
    encoded = json_string(joined)[1:-1]
    if pointer:
        encoded = encoded.replace(".", "/")  # no JSON escape contains a dot
    return encoded.replace(_SEP_JSON, between)


def error_code_enum(entries: Sequence[Entry]) -> dict[str, Any]:
    """The schema of an ``error_code`` member naming one of ``entries``."""
    return {"type": "integer", "enum": sorted(e.error_code for e in entries)}


class ErrorFormat:
    """Subclass and register by dotted path in ``APIERRORS["FORMATS"]`` to add a format.

    ``render`` is the format: it returns the body. ``render_json`` is only its encoding; the
    built-in formats write it directly (a 1,000-item validation error is then no slower than
    DRF's own), always to the same bytes as ``encode_json(render(...))``.

    ``apierrors.schema`` documents the body as the component ``openapi_component()`` names
    (from ``openapi_name`` and ``openapi_schema``; without them, ``<ClassName>Body``, any JSON
    object), narrowed per operation by ``openapi_constraint()``. A subclass of a built-in
    format inherits its schema; one that changes the body sets both attributes.
    """

    name: str = ""
    media_type: str = "application/json"
    #: The body's OpenAPI schema; None documents it as any JSON object.
    openapi_schema: dict[str, Any] | None = None
    #: The name of its component in the schema (``#/components/schemas/<name>``).
    openapi_name: str = ""

    def openapi_component(self) -> tuple[str, dict[str, Any]]:
        """(component name, schema) of the body. (A schema that must be built when asked, after
        the app registry is ready, say, can be a property: FHIR's is.)"""
        name = self.openapi_name or f"{type(self).__name__}Body"
        # A copy: drf-spectacular's enum hook rewrites the schemas it is given in place.
        return name, copy.deepcopy(self.openapi_schema) or {"type": "object"}

    def openapi_constraint(self, entries: Sequence[Entry]) -> dict[str, Any] | None:
        """What the body is for ``entries`` (the dictionary entries one operation answers with
        at one status) beyond the component: a schema combined with it by ``allOf``, such as
        ``error_code`` as an enum of theirs; None when the body does not name the entry."""
        return None

    def render(self, error: NormalizedError, request: HttpRequest | None) -> dict[str, Any]:
        raise NotImplementedError

    def render_json(self, error: NormalizedError, request: HttpRequest | None) -> bytes:
        """The body as UTF-8 JSON."""
        return encode_json(self.render(error, request))
