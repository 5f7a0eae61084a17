"""Typed exceptions from any apierrors error response, for API consumers.

    from apierrors.client import raise_for_response, ResourceDoesNotExist

    try:
        raise_for_response(requests.get(url, headers=auth))
    except ResourceDoesNotExist as exc:
        print(exc.error_code, exc.message)

Reads FHIR OperationOutcome, Docplanner, ShipStream and RFC 9457 problem bodies, and
degrades to the status and reason phrase for anything else. A hostile or broken server
cannot make it raise anything but the class for the status, nor read more than
``MAX_BODY_BYTES`` of a body, nor take more than linear time. Imports neither Django nor
requests nor httpx, nor any other apierrors module: consumers need none of them.
"""

from .body import MAX_BODY_BYTES
from .errors import (
    APIClientError,
    BadRequest,
    ClientError,
    Conflict,
    Forbidden,
    InvalidAccessToken,
    MethodNotAllowed,
    PreconditionFailed,
    RateLimitExceeded,
    ResourceDoesNotExist,
    ServerError,
    ServiceUnavailable,
    Unauthorized,
    UnprocessableEntity,
    exception_class_for,
)
from .headers import MAX_RETRY_AFTER, parse_retry_after
from .hooks import async_httpx_event_hook, httpx_event_hook, install, requests_hook
from .parsing import ParsedBody, parse_body, pointer_to_path
from .response import exception_for_response, raise_for_response

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_RETRY_AFTER",
    "APIClientError",
    "BadRequest",
    "ClientError",
    "Conflict",
    "Forbidden",
    "InvalidAccessToken",
    "MethodNotAllowed",
    "ParsedBody",
    "PreconditionFailed",
    "RateLimitExceeded",
    "ResourceDoesNotExist",
    "ServerError",
    "ServiceUnavailable",
    "Unauthorized",
    "UnprocessableEntity",
    "async_httpx_event_hook",
    "exception_class_for",
    "exception_for_response",
    "httpx_event_hook",
    "install",
    "parse_body",
    "parse_retry_after",
    "pointer_to_path",
    "raise_for_response",
    "requests_hook",
]
