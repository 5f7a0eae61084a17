"""Docplanner's integration body: the partner-facing integer and nothing else."""

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest

from ..dictionary.catalog import Entry
from ..handling.normalized import NormalizedError
from .base import ErrorFormat, error_code_enum


class DocplannerFormat(ErrorFormat):
    name = "docplanner"
    media_type = "application/json"
    openapi_name = "DocplannerError"
    openapi_schema = {
        "type": "object",
        "description": "Docplanner's error body: the dictionary's integer code.",
        "required": ["error_code"],
        "properties": {"error_code": {"type": "integer"}},
    }

    def render(self, error: NormalizedError, request: HttpRequest | None) -> dict[str, Any]:
        return {"error_code": error.entry.error_code}

    def openapi_constraint(self, entries: Sequence[Entry]) -> dict[str, Any]:
        return {"properties": {"error_code": error_code_enum(entries)}}
