"""Optional integration: make a requests session or an httpx client raise automatically."""

from __future__ import annotations

import inspect
from typing import Any, TypeVar

from .response import raise_for_response

__all__ = ["async_httpx_event_hook", "httpx_event_hook", "install", "requests_hook"]

C = TypeVar("C")


def requests_hook(response: Any, *args: Any, **kwargs: Any) -> Any:
    """A requests response hook: ``session.hooks["response"].append(requests_hook)``."""
    return raise_for_response(response)


def httpx_event_hook(response: Any) -> None:
    """An httpx response event hook: ``httpx.Client(event_hooks={"response": [...]})``."""
    # Event hooks run before the body is read; the parser needs it.
    response.read()
    raise_for_response(response)


async def async_httpx_event_hook(response: Any) -> None:
    """The same for ``httpx.AsyncClient``."""
    await response.aread()
    raise_for_response(response)


def install(client: C) -> C:
    """Add the right hook to a ``requests.Session``, ``httpx.Client`` or ``httpx.AsyncClient``.

    Installing twice adds the hook once. Returns the client.
    """
    hooks = getattr(client, "hooks", None)
    if isinstance(hooks, dict) and "response" in hooks:  # requests.Session
        if requests_hook not in hooks["response"]:
            hooks["response"].append(requests_hook)
        return client
    event_hooks = getattr(client, "event_hooks", None)
    if isinstance(event_hooks, dict):  # httpx.Client / httpx.AsyncClient
        is_async = inspect.iscoroutinefunction(getattr(client, "send", None))
        hook = async_httpx_event_hook if is_async else httpx_event_hook
        response_hooks = list(event_hooks.get("response", []))
        if hook not in response_hooks:
            response_hooks.append(hook)
        # httpx copies the lists in its setter; assigning works whatever the getter returns.
        client.event_hooks = {**event_hooks, "response": response_hooks}  # type: ignore[attr-defined]
        return client
    raise TypeError(f"cannot install apierrors hooks on {type(client).__name__}")
