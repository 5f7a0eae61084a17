"""OpenAPI request validation: the request is checked against the schema before the view runs.

As ShipStream's API does: headers, cookies, body, query, path and security scheme are
validated (by openapi-core) against the project's OpenAPI schema, and a request that does not
match answers 400 ``openapi_validation`` with one detail per failure, whose key says which part
failed (in ShipStream's format ``{"type": "openapi", "details": [{"key": "invalid_query_args",
"message": …}]}``; the same details in the other formats)::

    invalid_headers  invalid_cookies  invalid_body  invalid_query_args  invalid_path_args

A request with no credentials for any of the operation's security schemes answers 401
``authentication_failed`` with the ``WWW-Authenticate`` challenge, exactly as the view would:
the contract is that missing credentials are a 401 a client can act on, not a 400.

Install (``pip install apierrors[openapi]``) and list it after ``AuthenticationMiddleware``::

    MIDDLEWARE = [..., "apierrors.openapi.OpenAPIValidationMiddleware"]
    APIERRORS = {"OPENAPI_VALIDATION": True}      # every API view; default False
    # or per view:  class PartnerViewSet(...): openapi_validation = True

The schema is drf-spectacular's for the URLconf (generated once per process), or the file named
by ``APIERRORS["OPENAPI_SCHEMA"]`` (YAML or JSON). Paths and methods the schema does not
describe are let through (Django/DRF answer 404/405). A body the server cannot parse, or of a
media type the operation does not accept, is also let through: DRF answers those with its
precise ``parse_error`` / 415.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from openapi_core import Config, OpenAPI
from openapi_core.casting.schemas.exceptions import CastError
from openapi_core.contrib.django import DjangoOpenAPIRequest
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.exceptions import DeserializeError
from openapi_core.deserializing.media_types import media_type_deserializers
from openapi_core.templating.media_types.exceptions import MediaTypeFinderError
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.validation.request.exceptions import (
    MissingRequiredRequestBody,
    ParameterValidationError,
    RequestBodyValidationError,
    SecurityValidationError,
)
from werkzeug.datastructures import Headers, ImmutableMultiDict

from ..conf import api_settings
from ..exceptions import APIError
from ..handling.handler import build_error_response
from ..handling.logsafe import log_safe
from ..handling.normalized import Detail
from ..http.challenge import www_authenticate
from ..http.routing import is_api_request

logger = logging.getLogger("apierrors")

# Which part of the request failed, as ShipStream names it.
PART_KEYS = {
    "header": "invalid_headers",
    "cookie": "invalid_cookies",
    "query": "invalid_query_args",
    "path": "invalid_path_args",
    "body": "invalid_body",
    "security": "invalid_security",
}


class OpenAPIValidationFailed(APIError):
    """400 ``openapi_validation``; ``details`` name the failed parts."""

    default_key = "openapi_validation"


class _Request(DjangoOpenAPIRequest):
    """openapi-core's Django request, with path parameters named as in the schema.

    openapi-core's own adapter takes them from Django's URL kwargs (``pk``), while
    drf-spectacular names them after the model field (``id``); leaving them empty makes
    openapi-core take them from the path template it matched.
    """

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.body_error: Exception | None = None
        self.parameters = RequestParameters(
            path={},
            query=ImmutableMultiDict([(k, v) for k, vs in request.GET.lists() for v in vs]),
            header=Headers(request.headers.items()),
            cookie=ImmutableMultiDict(dict(request.COOKIES)),
        )

    @property
    def path_pattern(self) -> None:  # match the concrete path against the schema's templates
        return None

    @property
    def host_url(self) -> str:
        try:
            return f"{self.request.scheme}://{self.request.get_host()}"
        except Exception:  # a disallowed Host: Django answers that one itself (400)
            return f"{self.request.scheme}://localhost"

    @property
    def body(self) -> bytes:
        # Read only for an operation with a request body, as openapi-core asks for it.
        try:
            return self.request.body
        except ValueError:  # a Content-Length that is no number: DRF reads no body either
            return b""
        except Exception as exc:
            self.body_error = exc
            raise


def _unparseable_is_value_error(loads: Callable[..., Any]) -> Callable[..., Any]:
    """openapi-core's body deserializer ``loads``, failing only with ``ValueError``.

    openapi-core turns a ``ValueError`` (and a few others) into "cannot deserialize", which
    is left to DRF (``parse_error``); anything else escaped as a 500: an ``AssertionError``
    for a multipart body without a boundary (or a part without a name), a
    ``RecursionError`` for JSON nested 1,000 deep, a ``LookupError`` for an unknown
    charset. All of them only say the body can't be read.
    """

    def loads_or_value_error(value: Any, **parameters: str) -> Any:
        try:
            return loads(value, **parameters)
        except Exception as exc:
            raise ValueError(f"unparseable body ({type(exc).__name__})") from exc

    return loads_or_value_error


_CONFIG = Config(
    extra_media_type_deserializers={
        media_type: _unparseable_is_value_error(loads)
        for media_type, loads in media_type_deserializers.items()
    }
)

_lock = threading.Lock()
_specs: dict[str, OpenAPI | None] = {}


def get_openapi(urlconf: str | None = None) -> OpenAPI | None:
    """The validator for ``urlconf``'s schema (built on first use, then kept).

    None when the schema cannot be built or is invalid: that is logged once, and requests are
    let through unvalidated rather than every one of them failing with a 500.
    """
    urlconf = urlconf or settings.ROOT_URLCONF
    if urlconf not in _specs:
        with _lock:
            if urlconf not in _specs:
                try:
                    _specs[urlconf] = OpenAPI.from_dict(load_schema(urlconf), config=_CONFIG)
                except Exception:
                    logger.exception(
                        "OpenAPI request validation is off: the schema of %s could not be loaded",
                        urlconf,
                    )
                    _specs[urlconf] = None
    return _specs[urlconf]


def load_schema(urlconf: str) -> dict[str, Any]:
    path = api_settings.OPENAPI_SCHEMA
    if path:
        import yaml

        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)


def forget_schemas() -> None:
    """Drop the validators built so far: each is rebuilt from its schema on next use (done
    on every change of the settings the schema depends on; a test may call it too)."""
    _specs.clear()


@receiver(setting_changed)
def _forget_schemas(*, setting: str, **kwargs: Any) -> None:
    if setting in ("APIERRORS", "ROOT_URLCONF", "REST_FRAMEWORK", "SPECTACULAR_SETTINGS"):
        forget_schemas()


def validation_error(
    request: HttpRequest, urlconf: str | None = None
) -> tuple[str, list[Detail]] | None:
    """``("openapi_validation" | "authentication_failed", details)`` if the request fails."""
    spec = get_openapi(urlconf)
    if spec is None:
        return None
    details: list[Detail] = []
    wrapped = _Request(request)
    try:
        for error in spec.iter_request_errors(wrapped):
            if isinstance(error, PathError):
                return None  # not in the schema: Django/DRF answer 404/405
            if isinstance(error, SecurityValidationError):
                return "authentication_failed", []
            details.extend(_details(error))
    except Exception:
        if wrapped.body_error is not None:
            # RequestDataTooBig, an unreadable body: Django's handler400 answers it (413).
            raise wrapped.body_error from None
        # openapi-core failed on this request (a body nested too deeply for its schema
        # validator, or a bug of its own): what it found before stands; the rest is left to
        # DRF, which parses and validates the body itself. Never a 500 for the client.
        logger.warning(
            "OpenAPI validation of %s %s stopped: openapi-core raised; the rest "
            "of the request is left to the view.",
            log_safe(request.method),
            log_safe(request.path),
            exc_info=True,
        )
    return ("openapi_validation", details) if details else None


def _details(error: Exception) -> Iterable[Detail]:
    if isinstance(error, ParameterValidationError):
        key = PART_KEYS.get(error.location, "invalid_request")
        where = f"{error.location} parameter '{error.name}'"
        cause = error.__cause__
        if cause is None:
            yield Detail(key, f"Missing required {where}.", "required")
        else:
            yield Detail(key, f"Invalid {where}: {_reason(cause)}", "invalid")
    elif isinstance(error, MissingRequiredRequestBody):
        yield Detail("invalid_body", "A request body is required.", "required")
    elif isinstance(error, RequestBodyValidationError):
        cause = error.__cause__
        if isinstance(cause, MediaTypeFinderError | DeserializeError) and not isinstance(
            cause, CastError
        ):
            return  # unparseable or unsupported: DRF's parse_error / 415 say it better
        for schema_error in getattr(cause, "schema_errors", None) or ():
            path = ".".join(str(p) for p in getattr(schema_error, "path", ()))
            message = _message(schema_error)
            yield Detail("invalid_body", f"{path}: {message}" if path else message, "invalid")
        if not getattr(cause, "schema_errors", None):
            yield Detail("invalid_body", _reason(cause) if cause else str(error), "invalid")
    else:
        yield Detail("invalid_request", str(error), "invalid")


# A message quotes the value it refuses ("{...} is not of type 'string'"); the caller sent
# that value, so a few hundred characters of it are enough.
MAX_MESSAGE = 300


def _message(schema_error: Any) -> str:
    # Not str(schema_error): jsonschema's pretty-prints the whole instance and schema, which
    # for a value nested 500 deep recurses past the limit.
    message = getattr(schema_error, "message", None)
    return _cut(message if isinstance(message, str) else str(schema_error))


def _cut(message: str) -> str:
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "…"


def _reason(cause: BaseException) -> str:
    schema_errors = getattr(cause, "schema_errors", None)
    if schema_errors:
        return "; ".join(_message(e) for e in schema_errors)
    if isinstance(cause, CastError):
        return _cut(f"{cause.value!r} is not of type '{cause.type}'")
    return _cut(str(cause))


def validation_enabled(view_class: Any) -> bool:
    own = getattr(view_class, "openapi_validation", None)
    return bool(api_settings.OPENAPI_VALIDATION) if own is None else bool(own)


class OpenAPIValidationMiddleware:
    """Answers requests that don't match the schema before their view runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        view_class = getattr(view_func, "cls", None)  # DRF views; plain views aren't described
        if view_class is None or not is_api_request(request) or not validation_enabled(view_class):
            return None
        failure = validation_error(request, getattr(request, "urlconf", None))
        if failure is None:
            return None
        key, details = failure
        if key == "authentication_failed":
            exc: APIError = APIError(
                key, headers={"WWW-Authenticate": www_authenticate(request, view_class)}
            )
        else:
            exc = OpenAPIValidationFailed(details=details)
        # The view's class carries its error_format; the response is in the view's format.
        return build_error_response(request, exc, view_class)
