"""Which views AtomicRequestsMiddleware treats as API views, and which opt out, on which aliases.

The transaction mechanics live in ``middleware.py``; this module only looks at views.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import connections
from django.http import HttpRequest
from rest_framework.views import APIView

V = TypeVar("V")

NO_ALIASES: frozenset[str] = frozenset()


def non_atomic(view: V) -> V:
    """Run ``view`` outside the request transaction, on every alias.

    Works on a view function, a view class (Django or DRF) and a handler method (``post``,
    a ViewSet action). Apply it outermost, like ``transaction.non_atomic_requests``. The
    view then runs in autocommit, so it may use ``atomic(durable=True)``; it gives up the
    rollback guarantee.
    """
    view.atomic_requests = False  # type: ignore[attr-defined]
    return view


def view_class_of(view_func: Any) -> type | None:
    """The class behind ``as_view()`` (Django's ``view_class``, DRF's ``cls``), if any."""
    view_class = getattr(view_func, "view_class", None) or getattr(view_func, "cls", None)
    return view_class if isinstance(view_class, type) else None


def is_api_view(view_class: type | None) -> bool:
    """DRF views (APIView, @api_view, ViewSets) promise: anything but 2xx rolls back."""
    return view_class is not None and issubclass(view_class, APIView)


def opted_out_aliases(
    request: HttpRequest, view_func: Any, view_class: type | None
) -> frozenset[str]:
    """The aliases this request's view runs outside the request transaction on."""
    targets: list[Any] = [view_func]
    if view_class is not None:
        targets.append(view_class)
        method = (request.method or "").lower()
        actions = getattr(view_func, "actions", None)  # a DRF ViewSet route: {"post": "create"}
        handler_name = actions.get(method) if isinstance(actions, dict) else method
        handler = getattr(view_class, handler_name, None) if handler_name else None
        if handler is not None:
            targets.append(handler)
    opted_out: set[str] = set()
    for target in targets:
        if getattr(target, "atomic_requests", True) is False:
            return frozenset(connections.settings)
        # Django's @transaction.non_atomic_requests(using=...); as_view() copies it from
        # a decorated dispatch(), method_decorator onto the handler.
        opted_out.update(getattr(target, "_non_atomic_requests", ()))
    return frozenset(opted_out) if opted_out else NO_ALIASES


ViewFacts = tuple[type | None, bool, frozenset[str]]
_FACTS: dict[tuple[Any, str], ViewFacts] = {}


def view_facts(request: HttpRequest, view_func: Any) -> ViewFacts:
    """(view class, is a DRF view, aliases opted out of) for this view and request method.

    Cached per view function and method: these are set when the code is loaded. The cache
    holds the URLconf's own view objects, so it stays small; it is bounded all the same.
    """
    key = (view_func, request.method or "")
    try:
        facts = _FACTS.get(key)
        cacheable = True
    except TypeError:  # an unhashable callable as a view
        facts, cacheable = None, False
    if facts is None:
        view_class = view_class_of(view_func)
        facts = (
            view_class,
            is_api_view(view_class),
            opted_out_aliases(request, view_func, view_class),
        )
        if cacheable:
            if len(_FACTS) >= 4096:
                _FACTS.clear()
            _FACTS[key] = facts
    return facts


class OptOutMemory:
    """Paths whose view opted out, learned from earlier requests.

    The middleware opens its blocks before the URL is resolved; without this, a request to
    an opted-out view would open and at once commit an empty transaction on each alias (an
    extra round trip or three on a server). Keyed by (ROOT_URLCONF, method, path); a wrong
    guess (the URLconf changed, a middleware set ``request.urlconf``) is corrected when the
    view is known, by entering the alias late, so only middleware that ran before the view
    was outside the transaction. Bounded: forgets everything when full.
    """

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._paths: dict[tuple[str, str, str], frozenset[str]] = {}

    def get(self, key: tuple[str, str, str]) -> frozenset[str]:
        return self._paths.get(key, NO_ALIASES)

    def learn(self, key: tuple[str, str, str], opted_out: frozenset[str]) -> None:
        if not opted_out:
            self._paths.pop(key, None)
        elif self._paths.get(key) != opted_out:
            if len(self._paths) >= self.size:
                self._paths.clear()
            self._paths[key] = opted_out

    def clear(self) -> None:
        self._paths.clear()
