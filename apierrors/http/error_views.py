"""Django's error handlers in the API's format.

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
The path's owner is found by ``routing.py``.
"""

import sys
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views import csrf, defaults
from rest_framework.exceptions import PermissionDenied

from ..exceptions import ServerError
from ..handling.handler import build_error_response
from .routing import is_api_request, owning_view


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
