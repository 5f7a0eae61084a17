"""The DRF exception handler: exception → normalized error → format → response.

``exception_handler`` is the drop-in for ``REST_FRAMEWORK["EXCEPTION_HANDLER"]``; outside DRF
(``views.py``, the middleware) ``build_error_response`` runs the same pipeline. Every step is
a small method of ``ExceptionHandler`` so a project can subclass and override one of them.
"""

import json
import logging
import math
import re
import sys
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

from django.conf import settings
from django.core import exceptions as django_exceptions
from django.core.signals import got_request_exception
from django.db import IntegrityError, InterfaceError, OperationalError, connections
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse
from django.utils.module_loading import import_string
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from .catalog import get_entry
from .challenge import www_authenticate
from .conf import get_setting
from .exceptions import APIError
from .formats import ErrorFormat, choose_format
from .formats.base import encode_json
from .integrity import unique_violation
from .normalized import Detail, NormalizedError, flatten_errors

logger = logging.getLogger("apierrors")

# What an exception means in dictionary terms: (key, template params, details, headers).
Classified = tuple[str, dict[str, Any], list[Detail], dict[str, str]]

_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

# Statuses of APIExceptions we don't know by class (a third-party package's) → entry.
_KEY_BY_STATUS = {
    400: "invalid_request", 401: "authentication_failed", 403: "authorization_failed",
    404: "not_found", 405: "method_not_allowed", 406: "not_acceptable", 409: "conflict",
    412: "precondition_failed", 413: "request_too_large", 415: "unsupported_media_type",
    422: "business_rule", 428: "precondition_required", 429: "throttled",
    503: "service_unavailable",
}


def retry_after(seconds: float) -> str:
    """Retry-After in whole seconds, rounded up so a client never retries too early."""
    return str(max(0, math.ceil(seconds)))


class ErrorResponse(Response):
    """A DRF ``Response`` whose JSON body is rendered once, here, in the error format.

    Pre-rendering keeps the body independent of content negotiation (a 406 must still be
    readable) and of DRF's renderers, and ``.data`` still holds the body for tests and tools.
    """

    def __init__(self, body: dict[str, Any] | None, status: int, media_type: str,
                 headers: dict[str, str], content: bytes | None = None) -> None:
        # Response.__init__ minus a default Content-Type and headers set one by one, which
        # this replaces: it runs on every error response. The attributes are Response's own;
        # the charset is the body's (UTF-8 JSON), given so it isn't looked up.
        SimpleTemplateResponse.__init__(self, None, content_type=media_type, status=status,
                                        charset="utf-8", headers=headers)
        # Given ``content`` (the format's own encoding), ``body`` may be None: ``.data`` then
        # decodes the content when first read, which responses on their way out never do.
        self.data = _UNPARSED if body is None else body
        self.exception = False
        self.content_type = None
        self.content = encode_json(body) if content is None else content

    @property
    def data(self) -> Any:
        data = self._data
        if data is _UNPARSED:
            data = self._data = json.loads(self.content)
        return data

    @data.setter
    def data(self, value: Any) -> None:
        self._data = value


_UNPARSED: Any = object()


class ExceptionHandler:
    """The pipeline; ``handle`` reads top to bottom."""

    def handle(self, exc: BaseException, request: HttpRequest | None, view: Any = None
               ) -> HttpResponse:
        error = self.normalize(exc, request, view)
        if error.status >= 500:
            self.log(exc, error, request)
        error_format = choose_format(request, view)
        return self.respond(error, error_format, request)

    # -- exception → normalized error -----------------------------------------------------

    def normalize(self, exc: BaseException, request: HttpRequest | None, view: Any
                  ) -> NormalizedError:
        key, params, details, headers = self.classify(exc, request, view)
        entry = get_entry(key)
        title, message = entry.localized_texts(params)
        error = NormalizedError(
            entry=entry,
            message=message,
            details=details,
            headers=headers,
            instance=request.path if request is not None else None,
            title=title,
        )
        if entry.status >= 500:
            error.request_id = self.request_id(request)
        if entry.status == 503 and "Retry-After" not in headers:
            headers["Retry-After"] = "30"
        return error

    def mapper_for(self, exc: BaseException) -> Callable[..., Classified] | None:
        """The mapper for the most specific class of ``exc`` in ``MAPPERS``."""
        for cls in type(exc).__mro__:
            mapper = self.MAPPERS.get(cls)
            if mapper is not None:
                return mapper
        return None

    def is_unhandled(self, exc: BaseException) -> bool:
        """Whether ``exc`` is a bug (mapped by the catch-all), not an error the API answers."""
        return self.mapper_for(exc) in (None, ExceptionHandler.map_unhandled)

    def classify(self, exc: BaseException, request: HttpRequest | None, view: Any
                 ) -> Classified:
        """Map ``exc`` with the mapper for its most specific class (see ``MAPPERS``)."""
        mapper = self.mapper_for(exc)
        if mapper is None:
            return "internal_error", {}, [], {}
        return mapper(self, exc, request, view)

    def map_api_error(self, exc: APIError, request: Any, view: Any) -> Classified:
        headers = dict(exc.headers)
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = retry_after(exc.wait)
        if getattr(exc, "remaining", None) is not None:
            headers["X-Rate-Limit-Remaining"] = str(exc.remaining)
        params = exc.params
        if exc.key == "method_not_allowed" and "method" not in params and request is not None:
            params = {**params, "method": request.method}
        return exc.key, params, exc.details, headers

    def map_validation_error(self, exc: drf_exceptions.ValidationError, request: Any,
                             view: Any) -> Classified:
        return "invalid_request", {}, flatten_errors(exc.detail), {}

    def map_django_validation_error(self, exc: django_exceptions.ValidationError,
                                    request: Any, view: Any) -> Classified:
        errors = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return "invalid_request", {}, flatten_errors(errors), {}

    def map_parse_error(self, exc: drf_exceptions.ParseError, request: Any, view: Any
                        ) -> Classified:
        return "parse_error", {}, [Detail("", str(exc.detail), "parse_error")], {}

    def map_authentication(self, exc: drf_exceptions.APIException, request: Any, view: Any
                           ) -> Classified:
        # Always 401 with a challenge, even where DRF coerced it to 403 (its first
        # authenticator offered no WWW-Authenticate): missing credentials are not a refusal.
        challenge = www_authenticate(request, view)
        return "authentication_failed", {}, [], {"WWW-Authenticate": challenge}

    def map_permission_denied(self, exc: Exception, request: Any, view: Any) -> Classified:
        details = []
        # DRF's detail is written for clients (a permission's `message`, "CSRF Failed: …");
        # Django's PermissionDenied text is not, so it stays out.
        if isinstance(exc, drf_exceptions.APIException) and (
                str(exc.detail) != str(exc.default_detail)):
            details = [Detail("", str(exc.detail), getattr(exc.detail, "code", None))]
        return "authorization_failed", {}, details, {}

    def map_not_found(self, exc: Exception, request: Any, view: Any) -> Classified:
        view_model = self.view_model(view)
        if isinstance(exc, django_exceptions.ObjectDoesNotExist):
            model = _model_of_does_not_exist(type(exc))
            if model is not None and model is not view_model:
                # A related lookup failed: the URL's id is not the one that was missing.
                return "not_found", {}, [], {}
        lookup = self.lookup_value(view)
        if view_model is not None and lookup is not None:
            return "unknown_resource", {"resource": view_model.__name__, "id": lookup}, [], {}
        return "not_found", {}, [], {}

    def map_method_not_allowed(self, exc: Exception, request: Any, view: Any) -> Classified:
        method = request.method if request is not None else ""
        return "method_not_allowed", {"method": method}, [], {}

    def map_not_acceptable(self, exc: Exception, request: Any, view: Any) -> Classified:
        return "not_acceptable", {}, [], {}

    def map_unsupported_media_type(self, exc: Exception, request: Any, view: Any
                                   ) -> Classified:
        media_type = request.META.get("CONTENT_TYPE", "") if request is not None else ""
        return "unsupported_media_type", {"media_type": media_type}, [], {}

    def map_throttled(self, exc: drf_exceptions.Throttled, request: Any, view: Any
                      ) -> Classified:
        headers = {"X-Rate-Limit-Remaining": "0"}
        if exc.wait is not None:
            headers["Retry-After"] = retry_after(exc.wait)
        return "throttled", {}, [], headers

    def map_other_api_exception(self, exc: drf_exceptions.APIException, request: Any,
                                view: Any) -> Classified:
        key = _KEY_BY_STATUS.get(exc.status_code, "internal_error")
        details = []
        if isinstance(exc.detail, dict | list):
            details = flatten_errors(exc.detail)
        elif str(exc.detail) != str(exc.default_detail):
            details = [Detail("", str(exc.detail), getattr(exc.detail, "code", None))]
        return key, {}, details, {}

    def map_integrity_error(self, exc: IntegrityError, request: Any, view: Any) -> Classified:
        violation = unique_violation(exc, self.view_model(view))
        if violation is None:  # foreign key, NOT NULL, CHECK: a conflict, not a duplicate
            return "conflict", {}, [], {}
        message = violation.message()
        details = [Detail(field, message, "unique") for field in violation.fields if message]
        return "duplicate", {}, details, {}

    def map_protected(self, exc: Exception, request: Any, view: Any) -> Classified:
        # Name what still refers to the resource by model only: the objects may be anyone's.
        objects = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", ())
        names = sorted({str(type(obj)._meta.verbose_name) for obj in objects})
        if not names:
            return "protected", {}, [], {}
        return "protected", {}, [Detail("", f"Still referenced by: {', '.join(names)}.")], {}

    def map_operational_error(self, exc: OperationalError, request: Any, view: Any
                              ) -> Classified:
        return "service_unavailable", {}, [], {"Retry-After": "30"}

    def map_unhandled(self, exc: Exception, request: Any, view: Any) -> Classified:
        # A bug: the body never carries the exception's text, except for a developer (DEBUG).
        details = []
        if settings.DEBUG:
            details = [Detail("", f"{type(exc).__name__}: {exc}", "exception")]
        return "internal_error", {}, details, {}

    def map_bad_request(self, exc: Exception, request: Any, view: Any) -> Classified:
        return "invalid_request", {}, [], {}

    def map_too_large(self, exc: Exception, request: Any, view: Any) -> Classified:
        return "request_too_large", {}, [], {}

    MAPPERS: dict[type, Callable[..., Classified]] = {
        APIError: map_api_error,
        drf_exceptions.ValidationError: map_validation_error,
        drf_exceptions.ParseError: map_parse_error,
        drf_exceptions.NotAuthenticated: map_authentication,
        drf_exceptions.AuthenticationFailed: map_authentication,
        drf_exceptions.PermissionDenied: map_permission_denied,
        drf_exceptions.NotFound: map_not_found,
        drf_exceptions.MethodNotAllowed: map_method_not_allowed,
        drf_exceptions.NotAcceptable: map_not_acceptable,
        drf_exceptions.UnsupportedMediaType: map_unsupported_media_type,
        drf_exceptions.Throttled: map_throttled,
        drf_exceptions.APIException: map_other_api_exception,
        Http404: map_not_found,
        django_exceptions.ObjectDoesNotExist: map_not_found,
        django_exceptions.PermissionDenied: map_permission_denied,
        django_exceptions.ValidationError: map_django_validation_error,
        django_exceptions.RequestDataTooBig: map_too_large,
        django_exceptions.TooManyFieldsSent: map_too_large,
        django_exceptions.TooManyFilesSent: map_too_large,
        django_exceptions.SuspiciousOperation: map_bad_request,
        django_exceptions.BadRequest: map_bad_request,
        IntegrityError: map_integrity_error,
        ProtectedError: map_protected,
        RestrictedError: map_protected,
        OperationalError: map_operational_error,
        InterfaceError: map_operational_error,  # the connection went away
        Exception: map_unhandled,
    }

    # -- helpers for the mappers ------------------------------------------------------------

    def view_model(self, view: Any) -> type | None:
        """The model a DRF generic view serves, if any."""
        queryset = getattr(view, "queryset", None)
        if queryset is None and hasattr(view, "get_queryset"):
            try:
                queryset = view.get_queryset()
            except Exception:  # a view whose queryset needs more than we have
                return None
        return getattr(queryset, "model", None)

    def lookup_value(self, view: Any) -> Any:
        kwargs = getattr(view, "kwargs", None) or {}
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
        if lookup and lookup in kwargs:
            return kwargs[lookup]
        if len(kwargs) == 1:
            return next(iter(kwargs.values()))
        return None

    def request_id(self, request: HttpRequest | None) -> str:
        """The caller's ``X-Request-ID`` when it is safe to echo, else a new one."""
        if request is not None:
            header = "HTTP_" + get_setting("REQUEST_ID_HEADER").upper().replace("-", "_")
            given = request.META.get(header, "")
            if given and _SAFE_REQUEST_ID.fullmatch(given):
                return given
            rid = getattr(request, "apierrors_request_id", None)
            if rid:
                return rid
        return uuid.uuid4().hex

    # -- normalized error → response ----------------------------------------------------

    def respond(self, error: NormalizedError, error_format: ErrorFormat,
                request: HttpRequest | None) -> HttpResponse:
        render_json = getattr(error_format, "render_json", None)  # absent on duck-typed formats
        content = (render_json(error, request) if render_json is not None
                   else encode_json(error_format.render(error, request)))
        headers = error.headers
        headers["X-Error-Code"] = str(error.entry.error_code)
        headers["X-Error-Key"] = error.entry.key
        if error.request_id:
            headers[get_setting("REQUEST_ID_HEADER")] = error.request_id
        return ErrorResponse(None, error.status, error_format.media_type, headers, content)

    def log(self, exc: BaseException, error: NormalizedError, request: HttpRequest | None
            ) -> None:
        method = getattr(request, "method", "-")
        path = getattr(request, "path", "-")
        logger.error(
            "%s %s: %s [request_id=%s]", method, path, error.entry.key, error.request_id,
            exc_info=(type(exc), exc, exc.__traceback__),
            extra={"request_id": error.request_id, "status_code": error.status},
        )


def _model_of_does_not_exist(exc_class: type) -> type | None:
    """``Patient.DoesNotExist`` → ``Patient`` (Django doesn't link them; look it up once)."""
    if exc_class not in _DOES_NOT_EXIST_MODELS:
        from django.apps import apps

        _DOES_NOT_EXIST_MODELS.update(
            (m.DoesNotExist, m) for m in apps.get_models() if "DoesNotExist" in m.__dict__
        )
        _DOES_NOT_EXIST_MODELS.setdefault(exc_class, None)
    return _DOES_NOT_EXIST_MODELS[exc_class]


_DOES_NOT_EXIST_MODELS: dict[type, type | None] = {}

@cache
def get_handler() -> ExceptionHandler:
    """The handler instance; ``APIERRORS["HANDLER_CLASS"]`` may name a subclass."""
    return import_string(get_setting("HANDLER_CLASS"))()


def exception_handler(exc: Exception, context: dict[str, Any] | None = None
                      ) -> HttpResponse | None:
    """DRF ``EXCEPTION_HANDLER``: every exception gets a dictionary-driven response.

    A bug stays visible: an exception that becomes a 5xx sends Django's
    ``got_request_exception``, as Django's own handler does, so the test client re-raises it
    in tests and error trackers (Sentry, Rollbar) record it. With
    ``DEBUG_PROPAGATE_EXCEPTIONS`` an unhandled exception is not answered at all: DRF
    re-raises it, exactly as with its own handler.
    """
    context = context or {}
    request, view = context.get("request"), context.get("view")
    handler = get_handler()
    if settings.DEBUG_PROPAGATE_EXCEPTIONS and handler.is_unhandled(exc):
        return None
    response = handler.handle(exc, request, view)
    if response.status_code >= 500:
        report_exception(exc, request)
    set_rollback()  # as DRF's own handler does, for projects using ATOMIC_REQUESTS
    return response


def report_exception(exc: BaseException, request: Any) -> None:
    """Send ``got_request_exception`` for ``exc``, the exception being handled."""
    if sys.exc_info()[1] is not exc:
        # Receivers read sys.exc_info() (Django's test client does); with nothing being
        # handled they would get None and fail, so only the exception in hand is reported.
        return
    got_request_exception.send(sender=None, request=getattr(request, "_request", request))


def set_rollback() -> None:
    """DRF's ``set_rollback()``, on connections already in use only (it must not create
    any); settings are read first, as this runs on every error response and most projects
    (AtomicRequestsMiddleware) have no ATOMIC_REQUESTS alias at all."""
    if not any(s.get("ATOMIC_REQUESTS") for s in connections.settings.values()):
        return
    for connection in connections.all(initialized_only=True):
        if connection.settings_dict.get("ATOMIC_REQUESTS") and connection.in_atomic_block:
            connection.set_rollback(True)


def build_error_response(request: HttpRequest | None, exc: BaseException, view: Any = None
                         ) -> HttpResponse:
    """The same pipeline for code outside DRF views (Django's error handlers, middleware)."""
    return get_handler().handle(exc, request, view)
