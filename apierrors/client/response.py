"""Building and raising the exception for a response, duck-typed over requests and httpx."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, TypeVar

from .body import body_limit, read_body
from .errors import APIClientError, exception_class_for
from .headers import header, int_header, parse_retry_after
from .parsing import parse_body

__all__ = ["build_exception", "exception_for_response", "raise_for_response"]

R = TypeVar("R")


def _reason(response: Any, status: int) -> str | None:
    for attr in ("reason", "reason_phrase"):  # requests, httpx
        value = getattr(response, attr, None)
        if isinstance(value, bytes):
            value = value.decode("latin-1", errors="replace")
        if isinstance(value, str) and value.strip():
            return value.strip()
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return None


def exception_for_response(
    response: Any, *, max_body_bytes: int | None = None
) -> APIClientError | None:
    """The exception ``raise_for_response`` would raise, or None when the status is < 400.

    ``response`` is anything with ``status_code``, ``headers`` and ``content``: a
    ``requests.Response`` or an ``httpx.Response``. Of a body not read yet (a streamed
    response, or one seen from a hook) at most ``max_body_bytes`` (by default
    ``apierrors.client.MAX_BODY_BYTES``, 1 MB) are read; nothing is read below 400.
    """
    status = int(response.status_code)
    if status < 400:
        return None
    return build_exception(response, status, read_body(response, body_limit(max_body_bytes)))


def build_exception(response: Any, status: int, body: bytes) -> APIClientError:
    """The exception for an error ``response`` whose body (or its first bytes) is ``body``."""
    headers = getattr(response, "headers", None)
    parsed = parse_body(body, header(headers, "Content-Type"))
    cls = exception_class_for(
        status, www_authenticate=header(headers, "WWW-Authenticate") is not None
    )
    error_code = int_header(headers, "X-Error-Code")
    return cls(
        parsed.message or _reason(response, status) or f"HTTP {status}",
        status=status,
        # The headers are set on every apierrors response whatever the format; the body
        # is the fallback for other servers and for proxies that strip headers.
        error_code=error_code if error_code is not None else parsed.error_code,
        key=header(headers, "X-Error-Key") or parsed.key,
        details=parsed.details,
        retry_after=parse_retry_after(header(headers, "Retry-After"), date=header(headers, "Date")),
        rate_limit_remaining=int_header(headers, "X-Rate-Limit-Remaining", "X-RateLimit-Remaining"),
        request_id=header(headers, "X-Request-ID") or parsed.request_id,
        body=body,
        response=response,
        title=parsed.title,
        format=parsed.format,
        data=parsed.data,
    )


def raise_for_response(response: R, *, max_body_bytes: int | None = None) -> R:
    """Raise the matching ``APIClientError`` subclass if the status is >= 400.

    Returns the response otherwise, so ``raise_for_response(r).json()`` reads well.
    """
    exc = exception_for_response(response, max_body_bytes=max_body_bytes)
    if exc is not None:
        raise exc
    return response
