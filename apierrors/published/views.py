"""The published dictionary: every public entry as JSON and HTML, and one page per entry.

Each entry's page is the URL problem+json bodies give as ``type``. Served by
``path("errors/", include("apierrors.urls"))``. Internal entries (``is_public=False``) are
left out everywhere, and their pages are 404s.

The text is in the request's language (``Accept-Language`` or the ``django_language`` cookie
through ``LocaleMiddleware``, or ``?lang=pl`` for a link to send to a partner). Responses
carry an ``ETag`` (a hash of the body, so it changes exactly when the content does),
``Last-Modified`` (the newest edit) and ``Cache-Control``, and answer ``If-None-Match`` /
``If-Modified-Since`` with a 304. A shared cache may keep a page whose language the URL or
``Accept-Language`` chose (``Vary`` names both headers that can change it), never one the
language cookie chose (``private``). Everything is read from the in-memory catalog, as error
responses are.

Each ``error_code`` is listed once: if rows written around validation gave a code declared
in code to another entry too, the declared entry (which answers with it) is the one listed.
"""

import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import (
    get_language,
    get_language_from_path,
    get_supported_language_variant,
    override,
)
from django.views.decorators.http import require_safe

from ..dictionary.catalog import Entry, catalog, shipped_text
from ..dictionary.declared import DECLARED
from .preview import render_formats

# Short enough that an edit in the admin reaches readers within a minute; the ETag makes
# revalidation cheap after that.
CACHE_CONTROL = "public, max-age=60"
# The language cookie chose the text: one reader's preference, for their browser's cache only.
PRIVATE_CACHE_CONTROL = "private, max-age=60"


def is_published(entry: Entry) -> bool:
    """Whether ``entry`` may be shown to partners (the dictionary, its pages, the schema)."""
    return entry.is_public


def one_per_code(entries: Iterable[Entry]) -> list[Entry]:
    """``entries`` by ``error_code``, each code once: its declared owner's if it has one."""

    def rank(entry: Entry) -> tuple[int, int, str]:
        declared = DECLARED.get(entry.key)
        owns = declared is not None and declared.error_code == entry.error_code
        return (entry.error_code, 0 if owns else 1, entry.key)

    listed: dict[int, Entry] = {}
    for entry in sorted(entries, key=rank):
        listed.setdefault(entry.error_code, entry)
    return list(listed.values())


def public_entries(include_internal: bool = False) -> list[Entry]:
    """The dictionary's entries by ``error_code``; internal ones only when asked for."""
    return [
        e for e in one_per_code(catalog.entries().values()) if include_internal or is_published(e)
    ]


def template_text(entry: Entry) -> str:
    """The localized message template with its placeholders, as a partner should read it."""
    return "".join(
        lit.replace("{", "{{").replace("}", "}}") + ("{" + name + "}" if name else "")
        for lit, name in entry.localized()[1]
    )


def description_text(entry: Entry) -> str:
    # An unedited built-in description is translated by the shipped catalogs, like the text.
    return shipped_text(entry.description, entry.declared and entry.declared.description)


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


def _language_from_url(request: HttpRequest) -> bool:
    """Whether the URL alone fixed the language: ``?lang=``, or LocaleMiddleware's reading
    of an ``i18n_patterns`` prefix (an unprefixed path there gets LANGUAGE_CODE)."""
    if request.GET.get("lang", "") in dict(settings.LANGUAGES):
        return True
    urlconf = getattr(request, "urlconf", None) or settings.ROOT_URLCONF
    prefixes_used, prefixed_default = is_language_prefix_patterns_used(urlconf)
    return prefixes_used and (
        get_language_from_path(request.path_info) is not None or not prefixed_default
    )


def _language_from_cookie(request: HttpRequest) -> bool:
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if not cookie:
        return False
    try:
        get_supported_language_variant(cookie)
    except LookupError:
        return False  # LocaleMiddleware ignores it too
    return True


def _cache_headers(request: HttpRequest, response: HttpResponse) -> None:
    """``Cache-Control`` and ``Vary`` for a shared cache (a CDN, a proxy) in front of us.

    A URL that names the language is one page for everybody: ``public``. Otherwise the
    language came from Accept-Language or the cookie, and the cache must key on both; a
    response the cookie chose is one reader's preference, and a shared cache keying on the
    whole Cookie header would keep a copy per visitor: ``private`` keeps it out.
    """
    if _language_from_url(request):
        response["Cache-Control"] = CACHE_CONTROL
        return
    response["Cache-Control"] = (
        PRIVATE_CACHE_CONTROL if _language_from_cookie(request) else CACHE_CONTROL
    )
    patch_vary_headers(response, ["Accept-Language", "Cookie"])


def _conditional(
    request: HttpRequest, build: Callable[[], HttpResponse], modified: datetime | None
) -> HttpResponse:
    response = build()
    etag = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
    response["ETag"] = etag
    if modified is not None:
        response["Last-Modified"] = http_date(modified.timestamp())
    _cache_headers(request, response)
    # Django's own precedence: If-None-Match first, If-Modified-Since only without it.
    return get_conditional_response(
        request,
        etag=etag,
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
            return HttpResponse(
                render_to_string(
                    "apierrors/dictionary.html",
                    {
                        "entries": [entry_as_dict(e, request) for e in entries],
                        "language": language,
                        "languages": settings.LANGUAGES,
                        "json_url": _json_url(language),
                    },
                    request=request,
                )
            )

        return _conditional(request, build, last_modified(entries))


@require_safe
def entry_detail(request: HttpRequest, key: str) -> HttpResponse:
    entry = catalog.entries().get(key)
    if entry is None or not is_published(entry):
        raise Http404(key)
    with requested_language(request) as language:

        def build() -> HttpResponse:
            return HttpResponse(
                render_to_string(
                    "apierrors/entry.html",
                    {
                        "entry": entry_as_dict(entry, request),
                        "examples": render_formats(entry, request),
                        "language": language,
                        "languages": settings.LANGUAGES,
                    },
                    request=request,
                )
            )

        return _conditional(request, build, entry.updated_at)


def _json_url(language: str) -> str:
    try:
        return reverse("apierrors:dictionary-json") + f"?lang={language}"
    except NoReverseMatch:  # pragma: no cover - served under include("apierrors.urls")
        return ""
