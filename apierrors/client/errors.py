"""Exception classes raised for apierrors responses, one per status the server produces.

The names match ``apierrors.exceptions`` (and canvasapi's), so one vocabulary serves both
sides; this module must stay importable without Django.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "APIClientError",
    "BadRequest",
    "ClientError",
    "Conflict",
    "Forbidden",
    "InvalidAccessToken",
    "MethodNotAllowed",
    "PreconditionFailed",
    "RateLimitExceeded",
    "ResourceDoesNotExist",
    "ServerError",
    "ServiceUnavailable",
    "Unauthorized",
    "UnprocessableEntity",
    "exception_class_for",
]

Detail = tuple[str, str]

# str(exc) stays a one-liner: a validation error with fifty fields should not print fifty.
_MAX_DETAILS_IN_STR = 3


class APIClientError(Exception):
    """An error response (status >= 400) from an API speaking one of the apierrors formats."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        error_code: int | None = None,
        key: str | None = None,
        details: Iterable[Detail] = (),
        retry_after: float | None = None,
        rate_limit_remaining: int | None = None,
        request_id: str | None = None,
        body: bytes = b"",
        response: Any = None,
        title: str | None = None,
        format: str | None = None,
        data: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_code = error_code
        self.key = key
        self.details: list[Detail] = [(str(p), str(m)) for p, m in details]
        self.retry_after = retry_after
        self.rate_limit_remaining = rate_limit_remaining
        self.request_id = request_id
        self.body = body
        self.response = response
        #: RFC 9457 ``title`` when the body was problem+json.
        self.title = title
        #: Which body format was recognised: fhir, problem, shipstream, docplanner, json,
        #: html, text or None (empty body).
        self.format = format
        #: The decoded JSON body, or None when the body was not JSON.
        self.data = data

    def __str__(self) -> str:
        head = str(self.status)
        if self.key:
            head += f" {self.key}"
        if self.error_code is not None:
            head += f" (error_code {self.error_code})"
        text = f"{head}: {self.message}" if self.message else head
        if self.details:
            shown = "; ".join(
                f"{path}: {msg}" if path else msg
                for path, msg in self.details[:_MAX_DETAILS_IN_STR]
            )
            more = len(self.details) - _MAX_DETAILS_IN_STR
            text += f" [{shown}{f'; +{more} more' if more > 0 else ''}]"
        if self.retry_after is not None:
            text += f" (retry after {self.retry_after:g}s)"
        if self.request_id:
            text += f" (request_id={self.request_id})"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, error_code={self.error_code!r}, "
            f"key={self.key!r}, message={self.message!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # The default reduce passes only args, which the keyword-only __init__ rejects; the
        # response is dropped because httpx responses (and their streams) do not pickle.
        state = {k: v for k, v in self.__dict__.items() if k != "response"}
        return (_rebuild, (type(self), state))


def _rebuild(cls: type[APIClientError], state: dict[str, Any]) -> APIClientError:
    exc = cls.__new__(cls)
    Exception.__init__(exc, state.get("message", ""))
    exc.__dict__.update(state)
    exc.response = None
    return exc


#: Alias for code that prefers the shorter name.
ClientError = APIClientError


class BadRequest(APIClientError):
    """400: the request was malformed or failed validation."""


class InvalidAccessToken(APIClientError):
    """401 with ``WWW-Authenticate``: the token is missing or invalid."""


class Unauthorized(APIClientError):
    """401 without ``WWW-Authenticate``: not allowed to access this resource."""


class Forbidden(APIClientError):
    """403: the caller may not perform this operation."""


class ResourceDoesNotExist(APIClientError):
    """404: the resource (or a resource it references) does not exist."""


class MethodNotAllowed(APIClientError):
    """405: the method is not supported by this endpoint."""


class Conflict(APIClientError):
    """409: the request conflicts with the current state of the server."""


class PreconditionFailed(APIClientError):
    """412: the resource was modified since the precondition (If-Match) was specified."""


class UnprocessableEntity(APIClientError):
    """422: well-formed, but refused by a business rule or the database state."""


class RateLimitExceeded(APIClientError):
    """429: throttled; see ``retry_after`` and ``rate_limit_remaining``."""


class ServerError(APIClientError):
    """500 and any other 5xx without its own class."""


class ServiceUnavailable(ServerError):
    """503: down for maintenance or overloaded; see ``retry_after``."""


_BY_STATUS: dict[int, type[APIClientError]] = {
    400: BadRequest,
    403: Forbidden,
    404: ResourceDoesNotExist,
    405: MethodNotAllowed,
    409: Conflict,
    412: PreconditionFailed,
    422: UnprocessableEntity,
    429: RateLimitExceeded,
    500: ServerError,
    503: ServiceUnavailable,
}


def exception_class_for(status: int, *, www_authenticate: bool = False) -> type[APIClientError]:
    """The class for an error status; statuses without their own class get the base class."""
    if status == 401:
        return InvalidAccessToken if www_authenticate else Unauthorized
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 500 <= status <= 599:
        return ServerError
    return APIClientError
