"""The body formats, and how one is chosen for a response.

Choice, most specific first: the view's ``error_format`` attribute, then the request's
``Accept`` header (``application/fhir+json``, ``application/problem+json``, weighed by their
``q`` as RFC 9110 says), then ``APIERRORS["DEFAULT_FORMAT"]``.
"""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from ..conf import api_settings, settings_cached
from ..http.accept import parse_accept, preferred
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


def accept_formats() -> list[ErrorFormat]:
    """The formats ``Accept`` chooses by a media type of their own, by name."""
    return [get_format(n) for _m, n in _formats_by_media_type()]


def error_media_types() -> frozenset[str]:
    """Media types that select an error format (and no success renderer)."""
    return frozenset(m for m, _n in _formats_by_media_type())


@settings_cached
def _offers() -> tuple[tuple[str, str], ...]:
    """(name, media type) of the formats ``Accept`` may choose, in the server's order of
    preference: the default format, then those with a media type of their own, by name;
    then the other ``application/json`` ones (chosen only when the client refuses the rest)."""
    default = api_settings.DEFAULT_FORMAT
    names = sorted({*BUILTIN_FORMATS, *api_settings.FORMATS} - {default})
    specific = [(n, m) for m, n in _formats_by_media_type() if n != default]
    generic = [(n, get_format(n).media_type) for n in names if n not in dict(specific)]
    return ((default, get_format(default).media_type), *specific, *generic)


@settings_cached(maxsize=256)
def _format_for_accept(accept: str) -> str | None:
    return preferred(parse_accept(accept), _offers())


def format_for_accept(accept: str) -> str | None:
    """The format an ``Accept`` header prefers (RFC 9110 weights; ``http/accept.py``), or None
    when it accepts none of them: errors are never refused, the default then answers."""
    if len(accept) > 1024:  # not worth a cache slot; parsing is bounded all the same
        return preferred(parse_accept(accept), _offers())
    return _format_for_accept(accept)


def choose_format(request: HttpRequest | None, view: Any = None) -> ErrorFormat:
    name = getattr(view, "error_format", None)
    if not name and request is not None:
        accept = request.META.get("HTTP_ACCEPT")
        if accept:
            name = format_for_accept(accept)
    return get_format(name or api_settings.DEFAULT_FORMAT)


def clear_format_caches(**kwargs: Any) -> None:
    """Forget resolved formats (``api_settings.reload()`` does it on ``setting_changed``)."""
    get_format.cache_clear()
    _formats_by_media_type.cache_clear()
    _offers.cache_clear()
    _format_for_accept.cache_clear()


__all__ = [
    "BUILTIN_FORMATS",
    "ErrorFormat",
    "accept_formats",
    "choose_format",
    "clear_format_caches",
    "error_media_types",
    "get_format",
]
