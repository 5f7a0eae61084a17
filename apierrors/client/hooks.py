"""Optional integration: make a requests session or an httpx client raise automatically.

The hooks run before the body is read. They read nothing below 400, so a 2xx streams as it
would without them (``client.stream()``, ``stream=True``), and of an error body at most
``max_body_bytes`` (``MAX_BODY_BYTES``, 1 MB, by default), so an endless one cannot hang.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, TypeVar

from .body import aread_body, body_limit
from .response import build_exception, raise_for_response

__all__ = ["async_httpx_event_hook", "httpx_event_hook", "install", "requests_hook"]

C = TypeVar("C")


def requests_hook(
    response: Any, *args: Any, max_body_bytes: int | None = None, **kwargs: Any
) -> Any:
    """A requests response hook: ``session.hooks["response"].append(requests_hook)``."""
    return raise_for_response(response, max_body_bytes=max_body_bytes)


def httpx_event_hook(response: Any, *, max_body_bytes: int | None = None) -> None:
    """An httpx response event hook: ``httpx.Client(event_hooks={"response": [...]})``."""
    raise_for_response(response, max_body_bytes=max_body_bytes)


async def async_httpx_event_hook(response: Any, *, max_body_bytes: int | None = None) -> None:
    """The same for ``httpx.AsyncClient``."""
    status = int(response.status_code)
    if status >= 400:
        body = await aread_body(response, body_limit(max_body_bytes))
        raise build_exception(response, status, body)


_OURS = (requests_hook, httpx_event_hook, async_httpx_event_hook)


def _is_ours(hook: Any) -> bool:
    return getattr(hook, "func", hook) in _OURS  # the function, or a partial with a limit


def _with_hook(hooks: list[Any], hook: Any) -> list[Any]:
    """``hooks`` with ours replaced by ``hook`` in place (a new limit), or ``hook`` added."""
    out = [hook if _is_ours(h) else h for h in hooks]
    if hook not in out:
        out.append(hook)
    first = out.index(hook)
    return [h for i, h in enumerate(out) if i == first or not _is_ours(h)]


def install(client: C, *, max_body_bytes: int | None = None) -> C:
    """Add the right hook to a ``requests.Session``, ``httpx.Client`` or ``httpx.AsyncClient``.

    Installing twice adds the hook once (the last ``max_body_bytes`` wins). Returns the
    client.
    """

    def bound(hook: Any) -> Any:
        if max_body_bytes is None:
            return hook
        return functools.partial(hook, max_body_bytes=max_body_bytes)

    hooks = getattr(client, "hooks", None)
    if isinstance(hooks, dict) and "response" in hooks:  # requests.Session
        current = hooks["response"]
        current = [current] if callable(current) else list(current)  # requests takes either
        hooks["response"] = _with_hook(current, bound(requests_hook))
        return client
    event_hooks = getattr(client, "event_hooks", None)
    if isinstance(event_hooks, dict):  # httpx.Client / httpx.AsyncClient
        is_async = inspect.iscoroutinefunction(getattr(client, "send", None))
        hook = bound(async_httpx_event_hook if is_async else httpx_event_hook)
        response_hooks = _with_hook(list(event_hooks.get("response", [])), hook)
        # httpx copies the lists in its setter; assigning works whatever the getter returns.
        client.event_hooks = {**event_hooks, "response": response_hooks}  # type: ignore[attr-defined]
        return client
    raise TypeError(f"cannot install apierrors hooks on {type(client).__name__}")
