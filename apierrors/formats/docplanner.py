"""Docplanner's integration body: the partner-facing integer and nothing else."""

from typing import Any

from django.http import HttpRequest

from ..handling.normalized import NormalizedError
from .base import ErrorFormat


class DocplannerFormat(ErrorFormat):
    name = "docplanner"
    media_type = "application/json"

    def render(self, error: NormalizedError, request: HttpRequest | None) -> dict[str, Any]:
        return {"error_code": error.entry.error_code}
