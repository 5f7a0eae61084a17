"""Reading at most a bounded prefix of an error response's body, from requests or httpx.

A hook runs before the body is read; reading ``response.content`` there reads whatever the
server sends, for ever if it never stops. Here an unread body is read chunk by chunk up to a
limit. A body that ended within it is kept as the response's content, so
``exc.response.json()`` still works; a longer one is cut and its connection closed, as the
rest of it will not be read.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

__all__ = ["MAX_BODY_BYTES", "aread_body", "body_limit", "read_body"]

#: How much of an error body is read by default (1 MB): enough for any real error body.
MAX_BODY_BYTES = 1_000_000
_CHUNK = 64 * 1024


def body_limit(max_body_bytes: int | None) -> int:
    """The limit to apply: ``apierrors.client.MAX_BODY_BYTES`` unless given; never negative."""
    if max_body_bytes is None:
        # Read at each call, so that assigning apierrors.client.MAX_BODY_BYTES (or patching
        # it in a test) changes the default everywhere.
        package = sys.modules.get(__package__ or "")
        max_body_bytes = getattr(package, "MAX_BODY_BYTES", MAX_BODY_BYTES)
    return max(0, int(max_body_bytes))


def _as_bytes(content: Any) -> bytes:
    if content is None:
        return b""
    if isinstance(content, str):
        return content.encode("utf-8", errors="replace")
    try:
        return bytes(content)
    except (TypeError, ValueError):
        return b""


def _unread_requests(response: Any) -> bool:
    # requests keeps False in _content until the body is read; .content would read it all.
    return getattr(response, "_content", None) is False and callable(
        getattr(response, "iter_content", None)
    )


def _loaded(response: Any) -> tuple[bool, bytes]:
    """(True, content) when the body is in memory; (False, b"") for an unread stream."""
    try:
        return True, _as_bytes(response.content)
    except Exception:  # httpx's ResponseNotRead: a streamed response not read yet
        return False, b""


def _keep(response: Any, body: bytes, complete: bool) -> None:
    try:
        if complete:
            # What requests and httpx themselves store once a body is read.
            response._content = body
        else:
            response.close()
    except Exception:  # a duck-typed response without either: nothing to keep or close
        pass


def _collect(chunks: Callable[[], Iterable[Any]], limit: int) -> tuple[bytes, bool]:
    buffer = bytearray()
    if limit <= 0:
        return b"", False
    try:
        for chunk in chunks():
            buffer += chunk
            if len(buffer) > limit:
                return bytes(buffer[:limit]), False
    except Exception:  # a broken, timed-out or already consumed stream: keep what arrived
        return bytes(buffer[:limit]), False
    return bytes(buffer), True


def read_body(response: Any, limit: int) -> bytes:
    """The first ``limit`` bytes of the body, reading no more than that from the network."""
    if _unread_requests(response):
        body, complete = _collect(lambda: response.iter_content(_CHUNK), limit)
    else:
        loaded, content = _loaded(response)
        if loaded:
            return content[:limit]
        iter_bytes = getattr(response, "iter_bytes", None)
        if not callable(iter_bytes):
            return b""
        body, complete = _collect(iter_bytes, limit)
    _keep(response, body, complete)
    return body


async def aread_body(response: Any, limit: int) -> bytes:
    """The same for an ``httpx.AsyncClient`` response."""
    loaded, content = _loaded(response)
    if loaded:
        return content[:limit]
    buffer = bytearray()
    complete = False
    if limit > 0:
        try:
            chunks: AsyncIterator[bytes] = response.aiter_bytes()
            async for chunk in chunks:
                buffer += chunk
                if len(buffer) > limit:
                    break
            else:
                complete = True
        except Exception:
            pass
    body = bytes(buffer[:limit])
    if complete:
        _keep(response, body, True)
    else:
        with contextlib.suppress(Exception):
            await response.aclose()
    return body
