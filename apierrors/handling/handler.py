"""The DRF exception handler: exception → normalized error → format → response.

``exception_handler`` is the drop-in for ``REST_FRAMEWORK["EXCEPTION_HANDLER"]``; outside DRF
(the error views, the middleware) ``build_error_response`` runs the same pipeline. Every step is
a small method of ``ExceptionHandler`` so a project can subclass it, override one of them and
name the subclass in ``APIERRORS["HANDLER_CLASS"]``. ``MAPPERS`` names the method mapping each
exception class, looked up on the handler's own class, so an overridden ``map_not_found`` is the
one called. Exceptions of the project's own map to keys through ``APIERRORS["EXCEPTION_KEYS"]``
(``exception_keys.py``) without any subclass.
"""

import dataclasses
import json
import logging
import math
import re
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property, partial
from types import MappingProxyType
from typing import Any, NamedTuple

from django.conf import settings
from django.core import exceptions as django_exceptions
from django.core.signals import got_request_exception
from django.db import IntegrityError, InterfaceError, OperationalError, connections
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from ..conf import api_settings, settings_cached
from ..dictionary.catalog import get_entry
from ..exceptions import APIError
from ..formats import ErrorFormat, choose_format
from ..formats.base import encode_json
from ..http.challenge import www_authenticate
from ..stats import record_response
from .body_parsing import as_client_error
from .exception_keys import ExceptionKey, configured_exception_keys
from .integrity import unique_violation
from .logsafe import log_safe
from .normalized import Detail, NormalizedError, flatten_errors

logger = logging.getLogger("apierrors")

_NO_PARAMS: Mapping[str, Any] = MappingProxyType({})


class Classified(NamedTuple):
    """What an exception means in dictionary terms: a mapper's answer.

    A NamedTuple (a tuple, as fast to build and unpack): a mapper returning a plain 4-tuple
    still works. The defaults are immutable; ``normalize`` copies the headers it adds to.
    """

    key: str
    params: Mapping[str, Any] = _NO_PARAMS
    details: Sequence[Detail] = ()
    headers: Mapping[str, str] = _NO_PARAMS


_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

# Statuses of APIExceptions we don't know by class (a third-party package's) → entry.
_KEY_BY_STATUS = {
    400: "invalid_request",
    401: "authentication_failed",
    403: "authorization_failed",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "business_rule",
    428: "precondition_required",
    429: "throttled",
    503: "service_unavailable",
}


# Seconds a 503 asks the caller to wait when nothing more specific is known (the database
# unreachable, a ServiceUnavailable raised without ``retry_after``).
SERVICE_UNAVAILABLE_RETRY_AFTER = "30"


def retry_after(seconds: float) -> str:
    """Retry-After in whole seconds, rounded up so a client never retries too early."""
    return str(max(0, math.ceil(seconds)))


class ErrorResponse(Response):
    """A DRF ``Response`` whose JSON body is rendered once, here, in the error format.

    Pre-rendering keeps the body independent of content negotiation (a 406 must still be
    readable) and of DRF's renderers, and ``.data`` still holds the body for tests and tools.
    """

    def __init__(
        self,
        body: dict[str, Any] | None,
        status: int,
        media_type: str,
        headers: dict[str, str],
        content: bytes | None = None,
    ) -> None:
        # Response.__init__ minus a default Content-Type and headers set one by one, which
        # this replaces: it runs on every error response. The attributes are Response's own;
        # the charset is the body's (UTF-8 JSON), given so it isn't looked up.
        # Kept: calling Response.__init__ costs ~8 µs of a ~40 µs handler call (measured);
        # tests/test_framework_internals.py fails when DRF adds an attribute there.
        SimpleTemplateResponse.__init__(
            self, None, content_type=media_type, status=status, charset="utf-8", headers=headers
        )
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

    def handle(
        self, exc: BaseException, request: HttpRequest | None, view: Any = None
    ) -> HttpResponse:
        error = self.normalize(exc, request, view)
        if error.status >= 500:
            self.log(exc, error, request)
        error_format = choose_format(request, view)
        record_response(error, error_format, request)  # error statistics: in memory only
        return self.respond(error, error_format, request)

    # -- exception → normalized error -----------------------------------------------------

    def normalize(
        self, exc: BaseException, request: HttpRequest | None, view: Any
    ) -> NormalizedError:
        key, params, details, headers = self.classify(exc, request, view)
        entry = get_entry(key)
        headers = dict(headers) if headers else {}  # the response's own: added to below
        status = self.own_status(exc)
        if status is not None and status != entry.status:
            entry = _with_status(entry, status)
        title, message = entry.localized_texts(params)
        error = NormalizedError(
            entry=entry,
            message=message,
            details=details if details.__class__ is list else list(details),
            headers=headers,
            instance=request.path if request is not None else None,
            title=title,
        )
        if entry.status >= 500:
            error.request_id = self.request_id(request)
        if entry.status == 503 and "Retry-After" not in headers:
            headers["Retry-After"] = SERVICE_UNAVAILABLE_RETRY_AFTER
        return error

    def own_status(self, exc: BaseException) -> int | None:
        """The status of an ``APIException`` no entry stands for (a third party's 502, 504,
        418): kept, with the text of the entry it maps to; None for every other exception."""
        if isinstance(exc, APIError) or not isinstance(exc, drf_exceptions.APIException):
            return None
        status = exc.status_code
        if type(status) is int and 400 <= status <= 599 and status not in _KEY_BY_STATUS:
            return status
        return None

    def mapper_for(self, exc: BaseException) -> Callable[..., Classified] | None:
        """The mapper for ``exc``'s most specific class in ``EXCEPTION_KEYS`` or ``MAPPERS``.

        Called as ``mapper(self, exc, request, view)``. Resolved once per exception class.
        """
        cls = exc.__class__
        try:
            return self._mappers[cls]
        except KeyError:
            pass
        mappers = self._mappers
        if len(mappers) >= _MAX_RESOLVED:  # classes made on the fly must not pile up
            mappers.clear()
        mapper = mappers[cls] = self.resolve_mapper(cls)
        return mapper

    @cached_property
    def _mappers(self) -> dict[type, Callable[..., Classified] | None]:
        return {}

    def resolve_mapper(self, exc_class: type) -> Callable[..., Classified] | None:
        """Walk ``exc_class``'s MRO: at each class a project's ``EXCEPTION_KEYS`` line first,
        then ``MAPPERS``, whose method names are looked up on this handler's class."""
        configured = exception_keys()
        handler_class = type(self)
        for cls in exc_class.__mro__:
            mapping = configured.get(cls)
            if mapping is not None:
                return partial(handler_class.map_configured, mapping=mapping)
            mapper = self.MAPPERS.get(cls)
            if mapper is None:
                continue
            if not isinstance(mapper, str):
                return mapper  # a function, as MAPPERS held before they were names
            method = getattr(handler_class, mapper, None)
            if method is not None:
                return method
            logger.error(
                "%s.MAPPERS[%s] names %r, which the class lacks: skipped.",
                handler_class.__qualname__,
                cls.__qualname__,
                mapper,
            )
        return None

    def is_unhandled(self, exc: BaseException) -> bool:
        """Whether ``exc`` is a bug (mapped by the catch-all), not an error the API answers."""
        return self.mapper_for(exc) in (None, type(self).map_unhandled)

    def classify(self, exc: BaseException, request: HttpRequest | None, view: Any) -> Classified:
        """Map ``exc`` with the mapper for its most specific class (see ``MAPPERS``)."""
        mapper = self.mapper_for(exc)
        if mapper is None:
            return Classified("internal_error")
        return mapper(self, exc, request, view)

    def map_configured(
        self, exc: BaseException, request: Any, view: Any, mapping: ExceptionKey
    ) -> Classified:
        """A project's exception listed in ``APIERRORS["EXCEPTION_KEYS"]``: its entry, with
        the params read from the exception's attributes; never the exception's text."""
        return Classified(mapping.key, mapping.params_of(exc))

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
        return Classified(exc.key, params, exc.details, headers)

    def map_validation_error(
        self, exc: drf_exceptions.ValidationError, request: Any, view: Any
    ) -> Classified:
        return Classified("invalid_request", details=flatten_errors(exc.detail))

    def map_django_validation_error(
        self, exc: django_exceptions.ValidationError, request: Any, view: Any
    ) -> Classified:
        errors = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return Classified("invalid_request", details=flatten_errors(errors))

    def map_parse_error(
        self, exc: drf_exceptions.ParseError, request: Any, view: Any
    ) -> Classified:
        return Classified("parse_error", details=[Detail("", str(exc.detail), "parse_error")])

    def map_authentication(
        self, exc: drf_exceptions.APIException, request: Any, view: Any
    ) -> Classified:
        # Always 401 with a challenge, even where DRF coerced it to 403 (its first
        # authenticator offered no WWW-Authenticate): missing credentials are not a refusal.
        challenge = www_authenticate(request, view)
        return Classified("authentication_failed", headers={"WWW-Authenticate": challenge})

    def map_permission_denied(self, exc: Exception, request: Any, view: Any) -> Classified:
        details = []
        # DRF's detail is written for clients (a permission's `message`, "CSRF Failed: …");
        # Django's PermissionDenied text is not, so it stays out.
        if isinstance(exc, drf_exceptions.APIException) and (
            str(exc.detail) != str(exc.default_detail)
        ):
            details = [Detail("", str(exc.detail), getattr(exc.detail, "code", None))]
        return Classified("authorization_failed", details=details)

    def map_not_found(self, exc: Exception, request: Any, view: Any) -> Classified:
        view_model = self.view_model(view)
        if isinstance(exc, django_exceptions.ObjectDoesNotExist):
            model = _model_of_does_not_exist(type(exc))
            if model is not None and model is not view_model:
                # A related lookup failed: the URL's id is not the one that was missing.
                return Classified("not_found")
        lookup = self.lookup_value(view)
        if view_model is not None and lookup is not None:
            return Classified("unknown_resource", {"resource": view_model.__name__, "id": lookup})
        return Classified("not_found")

    def map_method_not_allowed(self, exc: Exception, request: Any, view: Any) -> Classified:
        method = request.method if request is not None else ""
        return Classified("method_not_allowed", {"method": method})

    def map_not_acceptable(self, exc: Exception, request: Any, view: Any) -> Classified:
        return Classified("not_acceptable")

    def map_unsupported_media_type(self, exc: Exception, request: Any, view: Any) -> Classified:
        media_type = request.META.get("CONTENT_TYPE", "") if request is not None else ""
        return Classified("unsupported_media_type", {"media_type": media_type})

    def map_throttled(self, exc: drf_exceptions.Throttled, request: Any, view: Any) -> Classified:
        headers = {"X-Rate-Limit-Remaining": "0"}
        if exc.wait is not None:
            headers["Retry-After"] = retry_after(exc.wait)
        return Classified("throttled", headers=headers)

    def map_other_api_exception(
        self, exc: drf_exceptions.APIException, request: Any, view: Any
    ) -> Classified:
        status = exc.status_code
        client_error = type(status) is int and 400 <= status < 500
        key = _KEY_BY_STATUS.get(status) or (
            "invalid_request" if client_error else "internal_error"
        )
        details = []
        if not client_error:
            # A 5xx is the server's failure: its text (a DSN, a host name) is for the log,
            # which gets the traceback, not for the caller; DEBUG aside, as for any bug.
            if settings.DEBUG:
                details = [Detail("", f"{type(exc).__name__}: {exc.detail}", "exception")]
        elif isinstance(exc.detail, dict | list):
            details = flatten_errors(exc.detail)
        elif str(exc.detail) != str(exc.default_detail):
            details = [Detail("", str(exc.detail), getattr(exc.detail, "code", None))]
        return Classified(key, details=details)

    def map_integrity_error(self, exc: IntegrityError, request: Any, view: Any) -> Classified:
        violation = unique_violation(exc, self.view_model(view))
        if violation is None:  # foreign key, NOT NULL, CHECK: a conflict, not a duplicate
            return Classified("conflict")
        message = violation.message()
        details = [Detail(field, message, "unique") for field in violation.fields if message]
        return Classified("duplicate", details=details)

    def map_protected(self, exc: Exception, request: Any, view: Any) -> Classified:
        # Name what still refers to the resource by model only: the objects may be anyone's.
        objects = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", ())
        names = sorted({str(type(obj)._meta.verbose_name) for obj in objects})
        if not names:
            return Classified("protected")
        return Classified(
            "protected", details=[Detail("", f"Still referenced by: {', '.join(names)}.")]
        )

    def map_operational_error(self, exc: OperationalError, request: Any, view: Any) -> Classified:
        return Classified(
            "service_unavailable", headers={"Retry-After": SERVICE_UNAVAILABLE_RETRY_AFTER}
        )

    def map_unhandled(self, exc: Exception, request: Any, view: Any) -> Classified:
        # A bug: the body never carries the exception's text, except for a developer (DEBUG).
        details = []
        if settings.DEBUG:
            details = [Detail("", f"{type(exc).__name__}: {exc}", "exception")]
        return Classified("internal_error", details=details)

    def map_bad_request(self, exc: Exception, request: Any, view: Any) -> Classified:
        return Classified("invalid_request")

    def map_too_large(self, exc: Exception, request: Any, view: Any) -> Classified:
        return Classified("request_too_large")

    # Exception class → the name of the method that maps it (the most specific class of an
    # exception wins). A subclass overrides the method, or extends the dict:
    # ``MAPPERS = {**ExceptionHandler.MAPPERS, CardDeclined: "map_card_declined"}``.
    MAPPERS: dict[type, str | Callable[..., Classified]] = {
        APIError: "map_api_error",
        drf_exceptions.ValidationError: "map_validation_error",
        drf_exceptions.ParseError: "map_parse_error",
        drf_exceptions.NotAuthenticated: "map_authentication",
        drf_exceptions.AuthenticationFailed: "map_authentication",
        drf_exceptions.PermissionDenied: "map_permission_denied",
        drf_exceptions.NotFound: "map_not_found",
        drf_exceptions.MethodNotAllowed: "map_method_not_allowed",
        drf_exceptions.NotAcceptable: "map_not_acceptable",
        drf_exceptions.UnsupportedMediaType: "map_unsupported_media_type",
        drf_exceptions.Throttled: "map_throttled",
        drf_exceptions.APIException: "map_other_api_exception",
        Http404: "map_not_found",
        django_exceptions.ObjectDoesNotExist: "map_not_found",
        django_exceptions.PermissionDenied: "map_permission_denied",
        django_exceptions.ValidationError: "map_django_validation_error",
        django_exceptions.RequestDataTooBig: "map_too_large",
        django_exceptions.TooManyFieldsSent: "map_too_large",
        django_exceptions.TooManyFilesSent: "map_too_large",
        django_exceptions.SuspiciousOperation: "map_bad_request",
        django_exceptions.BadRequest: "map_bad_request",
        IntegrityError: "map_integrity_error",
        ProtectedError: "map_protected",
        RestrictedError: "map_protected",
        OperationalError: "map_operational_error",
        InterfaceError: "map_operational_error",  # the connection went away
        Exception: "map_unhandled",
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
            header = "HTTP_" + api_settings.REQUEST_ID_HEADER.upper().replace("-", "_")
            given = request.META.get(header, "")
            if given and _SAFE_REQUEST_ID.fullmatch(given):
                return given
            rid = getattr(request, "apierrors_request_id", None)
            if rid:
                return rid
        return uuid.uuid4().hex

    # -- normalized error → response ----------------------------------------------------

    def respond(
        self, error: NormalizedError, error_format: ErrorFormat, request: HttpRequest | None
    ) -> HttpResponse:
        render_json = getattr(error_format, "render_json", None)  # absent on duck-typed formats
        try:
            content = (
                render_json(error, request)
                if render_json is not None
                else encode_json(error_format.render(error, request))
            )
        except UnicodeEncodeError:
            # A lone surrogate from the request (JSON "\ud800", valid to parse) echoed in a
            # detail ('"\ud800" is not a valid UUID.') has no UTF-8: escape it in the JSON.
            content = json.dumps(
                error_format.render(error, request), separators=(",", ":")
            ).encode()
        headers = error.headers
        headers["X-Error-Code"] = str(error.entry.error_code)
        headers["X-Error-Key"] = error.entry.key
        if error.request_id:
            headers[api_settings.REQUEST_ID_HEADER] = error.request_id
        return ErrorResponse(None, error.status, error_format.media_type, headers, content)

    def log(self, exc: BaseException, error: NormalizedError, request: HttpRequest | None) -> None:
        # The method and path are the caller's: escaped, so a %0A in the path cannot forge a
        # line (logsafe.py).
        method = log_safe(getattr(request, "method", None) or "-")
        path = log_safe(getattr(request, "path", "-"))
        logger.error(
            "%s %s: %s %d [request_id=%s]",
            method,
            path,
            error.entry.key,
            error.status,
            error.request_id,
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

# Bound on the exception classes a handler remembers the mapper of.
_MAX_RESOLVED = 1024

# (entry, status) -> the entry's copy with that status: one per pair, so the formats' caches
# keyed by entry stay warm. Catalog reloads make new entries; the bound drops the old ones.
_STATUS_COPIES: dict[tuple[Any, int], Any] = {}


def _with_status(entry: Any, status: int) -> Any:
    """The entry with another status (a third party's 502): a copy, the catalog's stays."""
    key = (entry, status)
    copy = _STATUS_COPIES.get(key)
    if copy is None:
        if len(_STATUS_COPIES) >= _MAX_RESOLVED:
            _STATUS_COPIES.clear()
        # A fresh per-language cache: the original's is shared by dataclasses.replace.
        copy = _STATUS_COPIES[key] = dataclasses.replace(entry, status=status, _localized={})
    return copy


@settings_cached
def exception_keys() -> dict[type, ExceptionKey]:
    """``APIERRORS["EXCEPTION_KEYS"]``, imported (broken lines skipped, logged once)."""
    return configured_exception_keys(api_settings.EXCEPTION_KEYS)


@settings_cached
def get_handler() -> ExceptionHandler:
    """The handler instance; ``APIERRORS["HANDLER_CLASS"]`` may name a subclass."""
    return api_settings.HANDLER_CLASS()


def exception_handler(exc: Exception, context: dict[str, Any] | None = None) -> HttpResponse | None:
    """DRF ``EXCEPTION_HANDLER``: every exception gets a dictionary-driven response.

    A bug stays visible: an exception that becomes a 5xx sends Django's
    ``got_request_exception``, as Django's own handler does, so the test client re-raises it
    in tests and error trackers (Sentry, Rollbar) record it. With
    ``DEBUG_PROPAGATE_EXCEPTIONS`` an unhandled exception is not answered at all: DRF
    re-raises it, exactly as with its own handler.
    """
    context = context or {}
    request, view = context.get("request"), context.get("view")
    exc = as_client_error(exc)  # a body too deeply nested to parse: 400 (body_parsing.py)
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


def build_error_response(
    request: HttpRequest | None, exc: BaseException, view: Any = None
) -> HttpResponse:
    """The same pipeline for code outside DRF views (Django's error handlers, middleware)."""
    return get_handler().handle(as_client_error(exc), request, view)
