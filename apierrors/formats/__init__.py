"""The body formats, and how one is chosen for a response.

Choice, most specific first: the view's ``error_format`` attribute, then the request's
``Accept`` header (``application/fhir+json``, ``application/problem+json``), then
``APIERRORS["DEFAULT_FORMAT"]``.
"""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from ..conf import api_settings, settings_cached
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


@settings_cached
def get_format(name: str) -> ErrorFormat:
    """The format registered under ``name`` (built in, or ``APIERRORS["FORMATS"]``)."""
    custom = api_settings.FORMATS  # name → class (the dotted paths come back imported)
    if name in custom:
        return custom[name]()
    try:
        return BUILTIN_FORMATS[name]()
    except KeyError:
        raise ImproperlyConfigured(
            f"Unknown apierrors format {name!r}; known: "
            f"{', '.join(sorted({*BUILTIN_FORMATS, *custom}))}"
        ) from None


@settings_cached
def _formats_by_media_type() -> tuple[tuple[str, str], ...]:
    # Only media types specific to one format select it; application/json would be ambiguous.
    names = {*BUILTIN_FORMATS, *api_settings.FORMATS}
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
    return get_format(name or api_settings.DEFAULT_FORMAT)


def clear_format_caches(**kwargs: Any) -> None:
    """Forget resolved formats (``api_settings.reload()`` does it on ``setting_changed``)."""
    get_format.cache_clear()
    _formats_by_media_type.cache_clear()


__all__ = [
    "BUILTIN_FORMATS", "ErrorFormat", "choose_format", "clear_format_caches",
    "error_media_types", "get_format",
]
