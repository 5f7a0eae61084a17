"""``AtomicRequestsMiddleware``: a request that does not succeed leaves no trace in the database.

Listed first in ``MIDDLEWARE``, it runs the request in ``transaction.atomic`` on every
configured alias the request uses, entered on that alias's first use (an alias never used gets
no connection at all), and decides at the very end, from the final response, whether to
commit. So the view, DRF's exception handler, template/renderer output and writes made by
later middleware (the session) are all inside the transaction, and a returned 422 rolls back
exactly like a raised exception. See "The rollback guarantee" in README.md for the contract
and its limits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.transaction import TransactionManagementError
from django.http import HttpRequest, HttpResponseServerError
from django.http.response import HttpResponseBase

from ..conf import api_settings
from ..dictionary.catalog import PG_IDLE, PG_INERROR, pg_transaction_status
from .view_policy import non_atomic, view_facts

__all__ = ["DURABLE_MESSAGE", "AtomicRequestsMiddleware", "non_atomic"]

logger = logging.getLogger("apierrors.middleware")

# Where the per-request state lives between __call__ and process_view.
_STATE_ATTR = "_apierrors_atomic"

DURABLE_MESSAGE = (
    "A durable atomic block cannot be nested within another atomic block, and "
    "apierrors.middleware.AtomicRequestsMiddleware runs every request inside one. Opt this "
    "view out of the request transaction: decorate it (or its class, or the handler method) "
    "with @apierrors.middleware.non_atomic, set `atomic_requests = False` on the view class, "
    "or use Django's @transaction.non_atomic_requests(using=...)."
)


class _RequestAtomic(transaction.Atomic):
    """The request's ``atomic`` block; only its error for a nested durable block differs."""

    def __init__(self, using: str) -> None:
        super().__init__(using, savepoint=True, durable=False)

    # Atomic.__enter__ reads ``atomic_blocks[-1]._from_testcase`` only to decide whether a
    # durable block may nest directly inside; answering with an error that names the
    # opt-out beats Django's generic message. Nothing else reads the attribute. Kept: Django
    # has no public hook for that message; tests/test_framework_internals.py guards it.
    @property
    def _from_testcase(self) -> bool:
        raise RuntimeError(DURABLE_MESSAGE)

    @_from_testcase.setter
    def _from_testcase(self, value: bool) -> None:
        pass  # Atomic.__init__ assigns False; we never come from a TestCase.


# The connection methods every first use of an alias goes through: a query or a cursor
# (ensure_connection), an atomic block, select_for_update or a caller asking
# (get_autocommit), on_commit, the rollback flag, and turning autocommit off (which must
# fail inside the request's transaction, as it would with ATOMIC_REQUESTS).
_FIRST_USE = (
    "ensure_connection",
    "get_autocommit",
    "set_autocommit",
    "on_commit",
    "get_rollback",
    "set_rollback",
)
# Inside an outer transaction the connection is open and autocommit off: statements are
# watched instead (see _Block._before_statement), and what must be tied to our savepoint.
_NESTED_FIRST_USE = ("on_commit", "set_rollback")
# Statements that change nothing; anything else may (a view's SAVEPOINT too).
_READS = ("SELECT", "SHOW", "EXPLAIN", "PRAGMA", "VALUES")


class _Block:
    """The request's ``atomic`` block on one alias, entered on the alias's first use.

    Until then the connection is untouched (no connection opened, no query: a test's
    database guard never fires): the methods in ``_FIRST_USE`` are shadowed on this
    connection object only, for this request only, by a hook that enters the block and
    then calls the real method. Once entered, the hooks are gone and cost nothing.
    """

    __slots__ = (
        "alias",
        "atomic",
        "begun",
        "changes",
        "connection",
        "nested_at",
        "outermost",
        "owner",
        "pending",
        "rollback_exc",
        "shadowed",
    )

    def __init__(self, alias: str, connection: BaseDatabaseWrapper) -> None:
        self.alias = alias
        # Connections are per thread and every step of a request runs in one thread (the
        # thread-sensitive one under ASGI), so the lookup is done once.
        self.connection = connection
        self.owner = threading.get_ident()
        self.atomic = _RequestAtomic(alias)
        self.begun = self.outermost = self.pending = False
        self.changes: int | None = None
        self.rollback_exc: BaseException | None = None
        self.shadowed: dict[str, Any] = {}
        self.nested_at: tuple[int, int] | None = None
        if connection.in_atomic_block:
            # Inside an outer transaction (a TestCase, a caller's atomic): our block is a
            # savepoint, needed only once the request writes. Reads need none, so a host's
            # assertNumQueries around a read-only request counts what it always counted.
            self.nested_at = (len(connection.atomic_blocks), len(connection.savepoint_ids))
            connection.execute_wrappers.append(self._before_statement)
            self._shadow(_NESTED_FIRST_USE)
        else:
            self._shadow(_FIRST_USE)

    # -- waiting for the first use ----------------------------------------------------------

    def _shadow(self, names: tuple[str, ...]) -> None:
        connection = self.connection
        attrs = connection.__dict__
        self.shadowed = {name: attrs.get(name, _ABSENT) for name in names}
        for name in names:
            attrs[name] = self._first_use(name, self.shadowed[name])
        if self.nested_at is None:
            # Django refuses a durable block when an atomic block is on the stack: ours is
            # there already, so the view gets the error that names the opt-out (as when it
            # is entered), not a durable block that would silently stop being durable.
            connection.atomic_blocks.append(self.atomic)

    def _before_statement(
        self, execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: Any
    ) -> Any:
        # Nested only (see __init__): the savepoint goes in before the first statement
        # that may change something, a view's own SAVEPOINT included (in this request's
        # thread: a connection can be shared, see _first_use).
        if self.owner == threading.get_ident() and not str(sql).lstrip()[:8].upper().startswith(
            _READS
        ):
            self.begin()
        return execute(sql, params, many, context)

    def _unshadow(self) -> None:
        connection = self.connection
        attrs = connection.__dict__
        for name, previous in self.shadowed.items():
            if previous is _ABSENT:
                attrs.pop(name, None)
            else:
                attrs[name] = previous  # a hook of an enclosing request, or a test's guard
        self.shadowed = {}
        if self.nested_at is not None:
            wrappers = connection.execute_wrappers
            if self._before_statement in wrappers:
                wrappers.remove(self._before_statement)
            return
        if not self.begun:
            blocks = connection.atomic_blocks  # connect() may have replaced the list meanwhile
            for index in range(len(blocks) - 1, -1, -1):
                if blocks[index] is self.atomic:
                    del blocks[index]
                    break

    def _first_use(self, name: str, previous: Any) -> Callable[..., Any]:
        def first_use(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != self.owner:
                # Another thread on a connection shared with this request's (Django's live
                # server over an in-memory SQLite database): its use is not this request's.
                if previous is not _ABSENT:
                    return previous(*args, **kwargs)
                return getattr(type(self.connection), name)(self.connection, *args, **kwargs)
            self.begin()
            return getattr(self.connection, name)(*args, **kwargs)  # the real one now

        return first_use

    # -- entering and leaving ---------------------------------------------------------------

    def begin(self) -> None:
        connection = self.connection
        if self.shadowed:
            self._unshadow()  # first: entering uses the very methods that were shadowed
        if self.nested_at is not None:
            self._begin_nested()
            return
        try:
            self.atomic.__enter__()
        except BaseException:
            if connection.atomic_blocks[-1:] != [self.atomic]:
                # Not entered (the server is down, a test's guard): try on the next use.
                self._shadow(_FIRST_USE)
            raise
        self.begun = True
        # Only an outermost block commits; inside an outer transaction (a TestCase, a
        # caller's atomic, autocommit turned off) it is a savepoint and committing is the
        # caller's. Django pushes a savepoint id for every block but the outermost.
        self.outermost = not connection.savepoint_ids
        if self.outermost:
            # A view's atomic block that triggered this entry saw autocommit on and took
            # itself for the outermost, outside any transaction: it then sets
            # commit_on_exit = False and, on exit, would end ours (in_atomic_block = False)
            # once no savepoint id is left. A placeholder id keeps one there; leave() takes
            # it out again and restores the flag before ours exits.
            connection.savepoint_ids.append(None)
        self.changes = _sqlite_changes(connection)
        # Django never clears rollback_exc; remember it to tell this request's error apart.
        self.rollback_exc = connection.rollback_exc

    def _begin_nested(self) -> None:
        """Our savepoint, put beneath any block the view opened meanwhile (which, having
        written nothing yet, holds no savepoint of its own in the database)."""
        connection = self.connection
        assert self.nested_at is not None
        try:
            sid = connection.savepoint()
        except BaseException:
            connection.execute_wrappers.append(self._before_statement)
            self._shadow(_NESTED_FIRST_USE)
            raise
        blocks_at, savepoints_at = self.nested_at
        connection.atomic_blocks.insert(blocks_at, self.atomic)
        connection.savepoint_ids.insert(savepoints_at, sid)
        self.begun = True
        self.rollback_exc = connection.rollback_exc

    def leave(self) -> None:
        """Undo what begin() added, so Django's own exit sees the block as it entered it."""
        connection = self.connection
        if self.outermost:
            if connection.savepoint_ids[:1] == [None]:
                del connection.savepoint_ids[0]
            connection.commit_on_exit = True

    def discard(self) -> None:
        """Forget an alias the request never used: nothing to commit or roll back."""
        if self.shadowed or self.nested_at is not None:
            self._unshadow()


class _RequestTransaction:
    """The blocks of one request, one per wrapped alias, in the order they were created."""

    __slots__ = ("blocks", "is_api", "view_class", "view_func")

    def __init__(self, aliases: Iterable[str]) -> None:
        self.blocks: list[_Block] = []
        self.is_api = False
        self.view_class: type | None = None
        self.view_func: Any = None
        try:
            for alias in aliases:
                self.blocks.append(_Block(alias, connections[alias]))
        except BaseException:
            self.abort()
            raise

    # -- decisions ------------------------------------------------------------------------

    def succeeded(self, status: int) -> bool:
        # API clients are promised "non-2xx = rolled back"; a browser form's redirect after
        # a successful POST (the admin) is a success.
        return 200 <= status < 300 if self.is_api else status < 400

    def rollback_error(self, blocks: list[_Block]) -> Exception | None:
        """Why a transaction we are about to commit cannot commit, if it cannot."""
        for block in blocks:
            connection = block.connection
            if connection.needs_rollback:
                reason = "was marked for rollback"
                cause = connection.rollback_exc
                if cause is block.rollback_exc:
                    cause = None
            elif connection.closed_in_transaction:
                reason, cause = "lost its connection", None
            elif pg_transaction_status(connection) == PG_INERROR:
                reason, cause = "is aborted by a failed statement", None
            else:
                continue
            return _raised(
                TransactionManagementError(
                    f"The response was a success, but the request's transaction on database "
                    f"{block.alias!r} {reason} (a database error was caught and not re-raised?); "
                    f"it was rolled back, so the success would be false."
                ),
                cause,
            )
        return None

    def commit_order(self, blocks: list[_Block]) -> tuple[list[_Block], Exception | None]:
        """Order the blocks for committing, and surface commit-time errors early.

        With one alias a failed commit is harmless: Django rolls it back and we answer with
        an error. With several, a failure after another alias has committed cannot be
        undone. So the aliases with pending work commit first, the first of them unchecked
        (its failure still lets all others roll back) and the rest after checking their
        deferred constraints; aliases without work, which cannot fail, commit last.
        """
        pending: list[_Block] = []
        rest: list[_Block] = []
        for block in blocks:
            block.pending = block.outermost and _has_work(block)
            (pending if block.pending else rest).append(block)
        for block in pending[1:]:
            check = _PRE_COMMIT_CHECKS.get(block.connection.vendor)
            if check is None:
                continue
            try:
                check(block.connection)
            except DatabaseError as exc:
                return blocks, exc
        return pending + rest, None

    # -- ending blocks --------------------------------------------------------------------

    def take(self, blocks: list[_Block] | None = None) -> list[_Block]:
        """Remove ``blocks`` (default: all) from the request; return those that were begun."""
        taken = self.blocks if blocks is None else blocks
        self.blocks = [] if blocks is None else [b for b in self.blocks if b not in blocks]
        begun = []
        for block in taken:
            if block.begun:
                begun.append(block)
            else:
                block.discard()
        return begun

    def close(self, blocks: list[_Block], commit: bool) -> Exception | None:
        """Commit (or roll back) begun ``blocks`` in order; return the commit error, if any.

        After the first failure the remaining blocks roll back. on_commit callbacks run at
        the end, for the aliases that committed.
        """
        error: Exception | None = None
        committed: list[_Block] = []
        hooks: list[tuple[BaseDatabaseWrapper, list[Any]]] = []
        for block in blocks:
            connection = block.connection
            if not commit or error is not None:
                _rollback(block)
                continue
            taken = None
            if block.outermost and connection.run_on_commit:
                # Run on_commit callbacks ourselves, after every alias has committed: one
                # that raises must not turn a committed request into an error response.
                taken, connection.run_on_commit = connection.run_on_commit, []
            block.leave()
            try:
                block.atomic.__exit__(None, None, None)
            except Exception as exc:  # Django has rolled this alias back
                error = exc
                continue
            committed.append(block)
            if taken:
                hooks.append((connection, taken))
        if error is not None and any(b.pending for b in committed):
            logger.error(
                "Commit failed after %s had committed; those writes are kept although the "
                "request answers with an error.",
                ", ".join(repr(b.alias) for b in committed),
                exc_info=error,
            )
        for connection, callbacks in hooks:
            _run_commit_hooks(connection, callbacks)
        return error

    def abort(self) -> None:
        """Roll everything back while an exception propagates; never mask that exception."""
        for block in reversed(self.take()):
            try:
                _rollback(block)
            except Exception:
                logger.exception("Rolling back database %r failed", block.alias)

    def finish(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        """Commit or roll back according to ``response``; return the response to send."""
        if not self.blocks:
            return response
        blocks = self.take()
        if not blocks:
            return response  # the request used no database
        if not self.succeeded(response.status_code):
            self.close(blocks, commit=False)
            return response
        error = self.rollback_error(blocks)
        if error is None:
            order, error = self.commit_order(blocks)
        if error is not None:
            self.close(blocks, commit=False)
        else:
            error = self.close(order, commit=True)
            if error is None:
                return response
        return _error_response(request, error, self.view_class or self.view_func, self.is_api)

    def see_view(self, request: HttpRequest, view_func: Any) -> list[_Block]:
        """Record the resolved view; return the blocks it opts out of."""
        self.view_func = view_func
        self.view_class, self.is_api, opted_out = view_facts(request, view_func)
        if not opted_out:
            return []
        return [block for block in self.blocks if block.alias in opted_out]

    def leave_for_view(self, leave: list[_Block]) -> None:
        """Before an opted-out view runs: forget unused aliases, commit what ran before it."""
        for block in self.take(leave):
            if block.connection.atomic_blocks[-1:] != [block.atomic]:
                # Something opened its own atomic block inside ours and is still in it; the
                # view runs inside that one anyway, and leaving ours now would corrupt both.
                logger.warning(
                    "Cannot run the view outside the request transaction on %r: another "
                    "atomic block is open inside it.",
                    block.alias,
                )
                self.blocks.append(block)
                continue
            error = self.rollback_error([block])
            if error is not None:
                self.close([block], commit=False)
                raise error
            error = self.close([block], commit=True)
            if error is not None:
                raise error


class AtomicRequestsMiddleware:
    """Run each request in ``transaction.atomic`` on every configured alias it uses.

    Commits when the final response succeeded (2xx for DRF views; below 400 for other
    views) and rolls back otherwise, whether the error was raised or returned. Must be
    the first entry of ``MIDDLEWARE``. Aliases: ``APIERRORS["ATOMIC_DATABASES"]`` (None: all).
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)
            # Django calls view middleware in the handler's mode; an async one here saves a
            # thread hop per request (the database is touched only for an opted-out view).
            self.process_view = self._aprocess_view  # type: ignore[method-assign]
        _aliases()  # an unknown alias fails at startup, not on the first request

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        state = _begin(request)
        try:
            response = self.get_response(request)
            return state.finish(request, response)
        except BaseException:
            state.abort()  # a no-op once finish() has ended every block
            raise

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        # Every database step runs in the request's thread-sensitive thread: the one that
        # sync views and the async ORM (sync_to_async) use, so it is the same connection.
        state = await sync_to_async(_begin)(request)
        try:
            response = await self.get_response(request)
            return await sync_to_async(state.finish)(request, response)
        except BaseException:
            await sync_to_async(state.abort)()
            raise

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> None:
        state = request.__dict__.get(_STATE_ATTR)
        if state is not None:
            leave = state.see_view(request, view_func)
            if leave:
                state.leave_for_view(leave)

    async def _aprocess_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> None:
        state = request.__dict__.get(_STATE_ATTR)
        if state is not None:
            leave = state.see_view(request, view_func)
            if leave:
                await sync_to_async(state.leave_for_view)(leave)


# -- helpers ------------------------------------------------------------------------------

_ABSENT: Any = object()


def _aliases() -> list[str]:
    configured = api_settings.ATOMIC_DATABASES
    if configured is None:
        # A read replica declared as such (TEST["MIRROR"], as Django documents) is never
        # written to, so there is nothing to roll back there; wrapped, its open transaction
        # would only hold a snapshot (and, on SQLite's shared test databases, a read lock
        # that blocks the primary's writes).
        return [
            alias
            for alias, settings_dict in connections.settings.items()
            if not (settings_dict.get("TEST") or {}).get("MIRROR")
        ]
    if isinstance(configured, str):
        raise ImproperlyConfigured(
            'APIERRORS["ATOMIC_DATABASES"] must be a list of aliases or None, not a string.'
        )
    unknown = [alias for alias in configured if alias not in connections.settings]
    if unknown:
        raise ImproperlyConfigured(
            f'APIERRORS["ATOMIC_DATABASES"] names {unknown}, which DATABASES does not define.'
        )
    return list(configured)


def _begin(request: HttpRequest) -> _RequestTransaction:
    """Prepare the request's blocks; each is entered when its alias is first used."""
    state = _RequestTransaction(_aliases())
    setattr(request, _STATE_ATTR, state)
    return state


def _rollback(block: _Block) -> None:
    connection = block.connection
    block.leave()
    if connection.in_atomic_block:
        connection.set_rollback(True)
    block.atomic.__exit__(None, None, None)


def _run_commit_hooks(connection: BaseDatabaseWrapper, callbacks: list[Any]) -> None:
    connection.run_on_commit = callbacks
    try:
        connection.run_and_clear_commit_hooks()  # Django's own loop: same robust semantics
    except Exception:
        logger.exception(
            "An on_commit callback failed after database %r committed; the response keeps "
            "its status because the data is committed.",
            connection.alias,
        )


def _sqlite_changes(connection: BaseDatabaseWrapper) -> int | None:
    if connection.vendor != "sqlite" or connection.connection is None:
        return None
    return connection.connection.total_changes


def _has_work(block: _Block) -> bool:
    """Whether the alias may have something to commit (cheap, no query)."""
    connection = block.connection
    if connection.vendor == "postgresql":
        return pg_transaction_status(connection) not in (None, PG_IDLE)
    if connection.vendor == "sqlite":
        # SQLite begins every atomic block eagerly; count changed rows instead.
        return _sqlite_changes(connection) != block.changes
    return True  # MySQL/MariaDB and others: no cheap way to tell


def _check_postgresql(connection: BaseDatabaseWrapper) -> None:
    # Django creates foreign keys DEFERRABLE INITIALLY DEFERRED: check them now.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _check_sqlite(connection: BaseDatabaseWrapper) -> None:
    # Deferred foreign keys again; PRAGMA foreign_key_check scans, so this runs only when
    # a request wrote to several SQLite databases.
    connection.check_constraints()


# MySQL/MariaDB (InnoDB) check constraints immediately; nothing is deferred to commit.
_PRE_COMMIT_CHECKS: dict[str, Callable[[BaseDatabaseWrapper], None]] = {
    "postgresql": _check_postgresql,
    "sqlite": _check_sqlite,
}


def _raised(exc: Exception, cause: BaseException | None) -> Exception:
    """``exc`` with a traceback and cause, as if raised here (for the error log)."""
    try:
        raise exc from cause
    except Exception as raised:
        return raised


def _error_response(
    request: HttpRequest, exc: BaseException, view: Any, is_api: bool
) -> HttpResponseBase:
    """The error response for a failure found by the middleware (a commit that failed, a
    success that cannot commit), in the request's format.

    API requests (a DRF view, or a path under ``API_PATH_PREFIXES``) answer in the error
    format, the view owning the path choosing it when routing never ran. Every other path
    (the admin, the site) gets what Django answers for the exception: its own handling, so
    its HTML error page, logged and reported, as the README promises.
    """
    from ..http.routing import is_api_request, owning_view

    if not is_api and not is_api_request(request):
        return _django_response(request, exc)
    if view is None:
        view = owning_view(request)
    error_format = getattr(view, "error_format", None)
    try:
        from ..handling.handler import build_error_response

        return build_error_response(
            request, exc, SimpleNamespace(error_format=error_format) if error_format else None
        )
    except Exception:
        logger.exception("Could not build the error response for %r", exc)
        return HttpResponseServerError("Internal server error", content_type="text/plain")


def _django_response(request: HttpRequest, exc: BaseException) -> HttpResponseBase:
    """Django's response for ``exc`` as if a view had raised it (handler500 and its page,
    ``got_request_exception``, the ``django.request`` log line)."""
    from django.core.handlers.exception import response_for_exception

    try:
        raise exc  # Django's handling reads sys.exc_info()
    except Exception as raised:
        return response_for_exception(request, raised)
