"""The body formats, and how one is chosen for a response.

Choice, most specific first: the view's ``error_format`` attribute, then the request's
``Accept`` header (``application/fhir+json``, ``application/problem+json``), then
``APIERRORS["DEFAULT_FORMAT"]``.
"""

from functools import cache
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.module_loading import import_string

from ..conf import get_setting
from .base import ErrorFormat
from .docplanner import DocplannerFormat
from .fhir import FhirFormat
from .problem import ProblemFormat
from .shipstream import ShipStreamFormat

BUILTIN_FORMATS: dict[str, type[ErrorFormat]] = {
    "fhir": FhirFormat,
    "docplanner": DocplannerFormat,
    "shipstream": ShipStreamFormat,
    "problem": ProblemFormat,
}


@cache
def get_format(name: str) -> ErrorFormat:
    """The format registered under ``name`` (built in, or ``APIERRORS["FORMATS"]``)."""
    custom = get_setting("FORMATS")
    if name in custom:
        return import_string(custom[name])()
    try:
        return BUILTIN_FORMATS[name]()
    except KeyError:
        raise ImproperlyConfigured(
            f"Unknown apierrors format {name!r}; known: "
            f"{', '.join(sorted({*BUILTIN_FORMATS, *custom}))}"
        ) from None


@cache
def _formats_by_media_type() -> tuple[tuple[str, str], ...]:
    # Only media types specific to one format select it; application/json would be ambiguous.
    names = {*BUILTIN_FORMATS, *get_setting("FORMATS")}
    pairs = ((get_format(n).media_type, n) for n in sorted(names))
    return tuple((m, n) for m, n in pairs if m != "application/json")


def error_media_types() -> frozenset[str]:
    """Media types that select an error format (and no success renderer)."""
    return frozenset(m for m, _n in _formats_by_media_type())


def choose_format(request: HttpRequest | None, view: Any = None) -> ErrorFormat:
    name = getattr(view, "error_format", None)
    if not name and request is not None:
        accept = request.META.get("HTTP_ACCEPT", "")
        if "+json" in accept:
            for media_type, format_name in _formats_by_media_type():
                if media_type in accept:
                    name = format_name
                    break
    return get_format(name or get_setting("DEFAULT_FORMAT"))


def clear_format_caches(**kwargs: Any) -> None:
    """Forget resolved formats (connected to ``setting_changed`` for tests)."""
    get_format.cache_clear()
    _formats_by_media_type.cache_clear()


__all__ = [
    "BUILTIN_FORMATS", "ErrorFormat", "choose_format", "clear_format_caches",
    "error_media_types", "get_format",
]
