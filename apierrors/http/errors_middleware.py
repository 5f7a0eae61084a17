"""``APIErrorsMiddleware``: the errors Django produces before or beside DRF, in the API's format.

List it right after ``AtomicRequestsMiddleware``::

    MIDDLEWARE = [
        "apierrors.middleware.AtomicRequestsMiddleware",
        "apierrors.errors_middleware.APIErrorsMiddleware",
        ...
    ]

For paths under ``APIERRORS["API_PATH_PREFIXES"]`` only, it answers

* 503 ``maintenance`` with ``Retry-After`` while the maintenance switch is on
  (``apierrors.maintenance``);
* 413 ``request_too_large`` when ``Content-Length`` exceeds ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
  Django enforces that limit only when something reads ``request.body``/``request.POST``;
  DRF's parsers read the raw stream, so without this a JSON body of any size is parsed.
  A multipart body is left to Django, which applies that limit to its non-file fields as it
  parses and, by design, none to its files (streamed to the upload handlers: memory up to
  ``FILE_UPLOAD_MAX_MEMORY_SIZE``, then a temporary file); ``APIERRORS["MAX_BODY_SIZE"]``
  limits every body, uploads included;
* a 405 of a plain Django view (``HttpResponseNotAllowed``, empty body) in the error format,
  keeping its ``Allow``.

Everything else outside DRF views (unknown URL, ``DisallowedHost``, a crash in a middleware)
goes through Django's ``handler400/403/404/500``, which ``apierrors.views`` provides.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from rest_framework.exceptions import MethodNotAllowed

from ..conf import api_settings
from ..exceptions import ServiceUnavailable
from ..handling.handler import build_error_response
from . import maintenance
from .routing import is_api_request, owning_view

Handler = Callable[[HttpRequest], Any]


class APIErrorsMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        if not is_api_request(request):
            return self.get_response(request)
        error = self.early_error(request)
        if error is not None:
            return build_error_response(request, error, owning_view(request))
        return self.finish(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if not is_api_request(request):
            return await self.get_response(request)
        # The maintenance callable and the dictionary may touch the database: not here.
        error = await sync_to_async(self.early_error)(request)
        if error is not None:
            return await sync_to_async(build_error_response)(request, error, owning_view(request))
        response = await self.get_response(request)
        if self.needs_formatting(response):
            return await sync_to_async(self.finish)(request, response)
        return response

    def early_error(self, request: HttpRequest) -> BaseException | None:
        """The error to answer with before any view runs, if any."""
        if maintenance.in_maintenance(request):
            return ServiceUnavailable("maintenance", retry_after=maintenance.retry_after_seconds())
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if (
            limit is not None
            and length > limit
            and not request.content_type.startswith("multipart/")
        ):
            return RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
        body_limit = api_settings.MAX_BODY_SIZE
        if body_limit is not None and length > body_limit:
            return RequestDataTooBig('Request body exceeded APIERRORS["MAX_BODY_SIZE"].')
        return None

    def needs_formatting(self, response: HttpResponseBase) -> bool:
        # Only Django's bare 405; a view's own error responses are its business.
        return isinstance(response, HttpResponseNotAllowed) and "X-Error-Key" not in response

    def finish(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if not self.needs_formatting(response):
            return response
        formatted = build_error_response(
            request, MethodNotAllowed(request.method), owning_view(request)
        )
        formatted["Allow"] = response["Allow"]
        return formatted
