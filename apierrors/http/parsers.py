"""A JSON parser that refuses what DRF's strict JSON means to refuse, overflows included.

DRF's ``JSONParser`` (``STRICT_JSON``) refuses the ``NaN`` and ``Infinity`` literals, but a
number too big for a float (``1e999``) still parses, as ``inf``, and a related field then
fails on it with ``OverflowError`` (a 500: ``{"slot": 1e999}``). This one answers it as any
other malformed JSON, 400 ``parse_error``. Optional::

    REST_FRAMEWORK = {"DEFAULT_PARSER_CLASSES": [
        "apierrors.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ]}
"""

from __future__ import annotations

import codecs
import math
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"Out of range float values are not JSON compliant: {text[:32]}")
    return value


class JSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: dict[str, Any] | None = None,
    ) -> Any:
        if not self.strict:
            return super().parse(stream, media_type, parser_context)
        parser_context = parser_context or {}
        # DRF 3.18 refuses non-text codecs (bz2_codec would decompress past the size limit).
        get_encoding = getattr(parsers, "get_encoding", None)
        encoding = (
            get_encoding(parser_context)
            if get_encoding is not None
            else parser_context.get("encoding", settings.DEFAULT_CHARSET)
        )
        try:
            decoded_stream = codecs.getreader(encoding)(stream)
            return json.load(
                decoded_stream, parse_constant=json.strict_constant, parse_float=_finite_float
            )
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
