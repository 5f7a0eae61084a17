"""The published dictionary: every public entry as JSON and HTML, and one page per entry.

Each entry's page is the URL problem+json bodies give as ``type``. Served by
``path("errors/", include("apierrors.urls"))``. Internal entries (``is_public=False``) are
left out everywhere, and their pages are 404s.

The text is in the request's language (``Accept-Language`` through ``LocaleMiddleware``, or
``?lang=pl`` for a link to send to a partner). Responses carry an ``ETag`` (a hash of the
body, so it changes exactly when the content does), ``Last-Modified`` (the newest edit) and
``Cache-Control``, and answer ``If-None-Match`` / ``If-Modified-Since`` with a 304.
Everything is read from the in-memory catalog, as error responses are.
"""

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import get_language, gettext, override
from django.views.decorators.http import require_safe

from .catalog import Entry, catalog
from .preview import render_formats

# Short enough that an edit in the admin reaches readers within a minute; the ETag makes
# revalidation cheap after that.
CACHE_CONTROL = "public, max-age=60"


def public_entries(include_internal: bool = False) -> list[Entry]:
    """The dictionary's entries by ``error_code``; internal ones only when asked for."""
    return sorted((e for e in catalog.entries().values() if include_internal or e.is_public),
                  key=lambda e: e.error_code)


def template_text(entry: Entry) -> str:
    """The localized message template with its placeholders, as a partner should read it."""
    return "".join(lit.replace("{", "{{").replace("}", "}}") + ("{" + name + "}" if name else "")
                   for lit, name in entry.localized()[1])


def description_text(entry: Entry) -> str:
    # An unedited built-in description is translated by the shipped catalogs, like the text.
    if entry.declared is not None and entry.description == entry.declared.description:
        return gettext(entry.description) if entry.description else ""
    return entry.description


def entry_url(entry: Entry, request: HttpRequest | None = None) -> str | None:
    """The entry's page (the RFC 9457 ``type``), absolute when a request is at hand."""
    path = entry.type_path
    if path is None:
        return None
    return request.build_absolute_uri(path) if request is not None else path


def entry_as_dict(entry: Entry, request: HttpRequest | None = None) -> dict[str, Any]:
    """One entry in the active language, as the JSON dictionary and the export give it."""
    title, _parsed = entry.localized()
    return {
        "key": entry.key,
        "error_code": entry.error_code,
        "status": entry.status,
        "title": str(title),
        "message": template_text(entry),
        "description": description_text(entry),
        "fhir_code": entry.fhir_code,
        "severity": entry.severity,
        "type": entry_url(entry, request),
    }


def last_modified(entries: list[Entry]) -> datetime | None:
    stamps = [e.updated_at for e in entries if e.updated_at is not None]
    return max(stamps) if stamps else None


@contextmanager
def requested_language(request: HttpRequest) -> Iterator[str]:
    """``?lang=xx`` (one of settings.LANGUAGES) wins over Accept-Language."""
    wanted = request.GET.get("lang", "")
    if wanted in dict(settings.LANGUAGES):
        with override(wanted):
            yield wanted
    else:
        yield get_language() or settings.LANGUAGE_CODE


def _conditional(request: HttpRequest, build: Callable[[], HttpResponse],
                 modified: datetime | None) -> HttpResponse:
    response = build()
    etag = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
    response["ETag"] = etag
    if modified is not None:
        response["Last-Modified"] = http_date(modified.timestamp())
    response["Cache-Control"] = CACHE_CONTROL
    patch_vary_headers(response, ["Accept-Language"])
    # Django's own precedence: If-None-Match first, If-Modified-Since only without it.
    return get_conditional_response(
        request, etag=etag,
        last_modified=int(modified.timestamp()) if modified is not None else None,
        response=response,
    )


@require_safe
def dictionary_json(request: HttpRequest) -> HttpResponse:
    with requested_language(request) as language:
        entries = public_entries()

        def build() -> HttpResponse:
            return JsonResponse(
                {"language": language, "errors": [entry_as_dict(e, request) for e in entries]},
                json_dumps_params={"ensure_ascii": False, "indent": 2},
            )

        return _conditional(request, build, last_modified(entries))


@require_safe
def dictionary_html(request: HttpRequest) -> HttpResponse:
    with requested_language(request) as language:
        entries = public_entries()

        def build() -> HttpResponse:
            return HttpResponse(render_to_string("apierrors/dictionary.html", {
                "entries": [entry_as_dict(e, request) for e in entries],
                "language": language,
                "languages": settings.LANGUAGES,
                "json_url": _json_url(language),
            }, request=request))

        return _conditional(request, build, last_modified(entries))


@require_safe
def entry_detail(request: HttpRequest, key: str) -> HttpResponse:
    entry = catalog.entries().get(key)
    if entry is None or not entry.is_public:
        raise Http404(key)
    with requested_language(request) as language:

        def build() -> HttpResponse:
            return HttpResponse(render_to_string("apierrors/entry.html", {
                "entry": entry_as_dict(entry, request),
                "examples": render_formats(entry, request),
                "language": language,
                "languages": settings.LANGUAGES,
            }, request=request))

        return _conditional(request, build, entry.updated_at)


def _json_url(language: str) -> str:
    try:
        return reverse("apierrors:dictionary-json") + f"?lang={language}"
    except NoReverseMatch:  # pragma: no cover - served under include("apierrors.urls")
        return ""
