"""Which requests are API requests, and which DRF view owns a path (its ``error_format``).

Paths under ``APIERRORS["API_PATH_PREFIXES"]`` answer in the error format. The format is that
of the DRF view owning the path: the view the path resolves to, or for a path that resolves to
none (``/bookings/not-an-id/``), the nearest enclosing one (``/bookings/``), so a partner API's
malformed URLs still answer in the partner's format. Used by the error views, the errors
middleware, the transaction middleware and the OpenAPI validation.
"""

from django.http import HttpRequest
from django.urls import Resolver404, resolve

from ..conf import api_settings


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
