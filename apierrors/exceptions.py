"""Exceptions to raise in views; the dictionary gives their status, code and text.

Named like the client classes a real client (canvasapi, and ``apierrors.client``) raises, so
one vocabulary serves both sides::

    raise APIError("appointment_unavailable")
    raise ResourceDoesNotExist(resource="Patient", id=pk)
    raise UnprocessableEntity("slot_taken", details=[("slot", "Already booked.")])

They are DRF ``APIException`` subclasses: DRF's stock handler (and anything reading
``exc.status_code`` / ``exc.detail``) still works, reading the dictionary on access.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from rest_framework.exceptions import APIException, ErrorDetail

from .conf import api_settings
from .dictionary.catalog import get_entry
from .dictionary.declared import DeclaredError, declare
from .handling.normalized import Detail, details_from_pairs, flatten_errors


class APIError(APIException):
    """Base class; ``APIError("key")`` answers with that dictionary entry."""

    default_key = "internal_error"
    # Set on a subclass to declare its entry in code (added to the database by
    # ``migrate``-time sync and ``manage.py sync_error_codes``).
    declaration: DeclaredError | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("declaration") is not None:
            declare(cls.declaration)
            cls.default_key = cls.declaration.key

    def __init__(
        self,
        key: str | None = None,
        *,
        details: Iterable[Any] | Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> None:
        # APIException.__init__ is not called: detail and status come from the dictionary.
        self.key = key or self.default_key
        self.params = params
        if details is None:
            self.details: list[Detail] = []
        elif isinstance(details, Mapping):
            self.details = flatten_errors(details)
        else:
            self.details = details_from_pairs(details)
        self.headers = dict(headers or {})

    @property
    def status_code(self) -> int:  # type: ignore[override]
        return get_entry(self.key).status

    @property
    def detail(self) -> ErrorDetail:  # type: ignore[override]
        return ErrorDetail(get_entry(self.key).render_message(self.params), code=self.key)

    def __str__(self) -> str:
        return str(self.detail)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key!r})"


class BadRequest(APIError):
    default_key = "invalid_request"


class InvalidAccessToken(APIError):
    """401 with ``WWW-Authenticate``: the token is missing, expired or wrong."""

    default_key = "authentication_failed"

    @property
    def auth_header(self) -> str:
        return f'Bearer realm="{api_settings.AUTH_REALM}", error="invalid_token"'


class Unauthorized(APIError):
    """401 without ``WWW-Authenticate``: valid credentials, not allowed here."""

    default_key = "unauthorized"


class Forbidden(APIError):
    default_key = "authorization_failed"


class ResourceDoesNotExist(APIError):
    """``ResourceDoesNotExist(resource="Patient", id=pk)`` → Unknown Patient resource '<pk>'."""

    default_key = "unknown_resource"


class MethodNotAllowed(APIError):
    default_key = "method_not_allowed"


class Conflict(APIError):
    default_key = "conflict"


class PreconditionFailed(APIError):
    default_key = "precondition_failed"


class PreconditionRequired(APIError):
    default_key = "precondition_required"


class UnprocessableEntity(APIError):
    default_key = "business_rule"


class RateLimitExceeded(APIError):
    """429; ``retry_after`` (seconds) becomes ``Retry-After``, as DRF's ``Throttled.wait``."""

    default_key = "throttled"

    def __init__(
        self,
        key: str | None = None,
        *,
        retry_after: float | None = None,
        remaining: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(key, **kwargs)
        self.wait = retry_after
        self.remaining = remaining


class ServerError(APIError):
    default_key = "internal_error"


class ServiceUnavailable(APIError):
    default_key = "service_unavailable"

    def __init__(
        self, key: str | None = None, *, retry_after: float | None = None, **kwargs: Any
    ) -> None:
        super().__init__(key, **kwargs)
        self.wait = retry_after


__all__ = [
    "APIError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "InvalidAccessToken",
    "MethodNotAllowed",
    "PreconditionFailed",
    "PreconditionRequired",
    "RateLimitExceeded",
    "ResourceDoesNotExist",
    "ServerError",
    "ServiceUnavailable",
    "Unauthorized",
    "UnprocessableEntity",
]
