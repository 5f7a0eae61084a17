"""Django's error handlers in the API's format, and the published dictionary.

In the project's urls.py::

    handler400 = "apierrors.views.bad_request"
    handler403 = "apierrors.views.permission_denied"
    handler404 = "apierrors.views.page_not_found"
    handler500 = "apierrors.views.server_error"

and, for CSRF failures of plain Django views (DRF views report them as a 403 themselves)::

    CSRF_FAILURE_VIEW = "apierrors.views.csrf_failure"

Paths under ``APIERRORS["API_PATH_PREFIXES"]`` answer in the error format; every other path
gets Django's own HTML pages, so the admin and the site look as they always did. The format is
that of the DRF view owning the path (its ``error_format``): the view the path resolves to, or
for a path that resolves to none (``/bookings/not-an-id/``), the nearest enclosing one
(``/bookings/``), so a partner API's malformed URLs still answer in the partner's format.
(The published dictionary's pages are in ``published.py``.)
"""

import sys
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.views import csrf, defaults
from rest_framework.exceptions import PermissionDenied

from .conf import api_settings
from .exceptions import ServerError
from .handler import build_error_response


def is_api_request(request: HttpRequest) -> bool:
    """Whether ``request`` is under ``APIERRORS["API_PATH_PREFIXES"]`` (answered in the format)."""
    return request.path.startswith(tuple(api_settings.API_PATH_PREFIXES))


# How deep the enclosing views are looked for. Each try is a full URL resolution; a hostile
# path of 32,000 segments would otherwise cost 32,000 of them (seconds) on every error.
MAX_OWNER_SEGMENTS = 16


def owner_candidates(path: str) -> list[str]:
    """The paths tried, in order: ``path`` itself, then its parents, nearest first
    (``/a/b/c/`` → ``/a/b/``, ``/a/``), starting no deeper than ``MAX_OWNER_SEGMENTS``
    segments: at most that many tries plus one, whatever the path's length."""
    candidates = [path] if path else []
    parent = _parent(path)
    if parent.count("/", 0, _MAX_SCAN) > MAX_OWNER_SEGMENTS:
        # Deeper than any owner looked for: start from the first MAX_OWNER_SEGMENTS segments.
        end = 0
        for _ in range(MAX_OWNER_SEGMENTS + 1):
            end = parent.find("/", end) + 1
        parent = parent[:end]
    while parent:
        candidates.append(parent)
        parent = _parent(parent)
    return candidates


# Counting slashes stops here: enough to tell a path deeper than MAX_OWNER_SEGMENTS.
_MAX_SCAN = 64 * 1024


def _parent(path: str) -> str:
    parent = path.rstrip("/").rpartition("/")[0]
    return parent + "/" if parent else ""


def owning_view(request: HttpRequest) -> type | None:
    """The DRF view class whose ``error_format`` applies to ``request.path`` (see above)."""
    urlconf = getattr(request, "urlconf", None)
    for path in owner_candidates(request.path):
        try:
            view_class = getattr(resolve(path, urlconf).func, "cls", None)
        except Resolver404:
            view_class = None
        except Exception:  # a broken URLconf must not break the error page
            return None
        if view_class is not None:
            return view_class
    return None


def _api_error(request: HttpRequest, exception: BaseException) -> HttpResponse:
    return build_error_response(request, exception, owning_view(request))


def bad_request(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    if is_api_request(request):
        return _api_error(request, exception)
    return defaults.bad_request(request, exception, **kwargs)


def permission_denied(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    if is_api_request(request):
        return _api_error(request, exception)
    return defaults.permission_denied(request, exception, **kwargs)


def page_not_found(request: HttpRequest, exception: Exception, **kwargs: Any) -> HttpResponse:
    if is_api_request(request):
        return _api_error(request, exception)
    return defaults.page_not_found(request, exception, **kwargs)


def server_error(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    if is_api_request(request):
        # Django logged the traceback already; the body still gets a request id.
        exc = sys.exc_info()[1] or ServerError()
        return _api_error(request, exc)
    return defaults.server_error(request, **kwargs)


def csrf_failure(request: HttpRequest, reason: str = "", **kwargs: Any) -> HttpResponse:
    if is_api_request(request):
        # The reason is Django's fixed text ("CSRF token missing."), safe to show.
        return _api_error(request, PermissionDenied(f"CSRF Failed: {reason}"))
    return csrf.csrf_failure(request, reason, **kwargs)
