"""Building and raising the exception for a response, duck-typed over requests and httpx."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, TypeVar

from .errors import APIClientError, exception_class_for
from .headers import header, int_header, parse_retry_after
from .parsing import parse_body

__all__ = ["exception_for_response", "raise_for_response"]

R = TypeVar("R")


def _content(response: Any) -> bytes:
    try:
        content = response.content
    except Exception:
        # httpx raises ResponseNotRead for a streamed response that was never read.
        read = getattr(response, "read", None)
        try:
            content = read() if callable(read) else b""
        except Exception:  # e.g. an async httpx stream read synchronously
            content = b""
    if content is None:
        return b""
    if isinstance(content, str):
        return content.encode("utf-8")
    try:
        return bytes(content)
    except (TypeError, ValueError):
        return b""


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


def exception_for_response(response: Any) -> APIClientError | None:
    """The exception ``raise_for_response`` would raise, or None when the status is < 400.

    ``response`` is anything with ``status_code``, ``headers`` and ``content``: a
    ``requests.Response`` or an ``httpx.Response``.
    """
    status = int(response.status_code)
    if status < 400:
        return None
    headers = getattr(response, "headers", None)
    body = _content(response)
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


def raise_for_response(response: R) -> R:
    """Raise the matching ``APIClientError`` subclass if the status is >= 400.

    Returns the response otherwise, so ``raise_for_response(r).json()`` reads well.
    """
    exc = exception_for_response(response)
    if exc is not None:
        raise exc
    return response
