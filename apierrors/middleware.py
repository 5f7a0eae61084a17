"""``AtomicRequestsMiddleware``: a request that does not succeed leaves no trace in the database.

Listed first in ``MIDDLEWARE``, it opens ``transaction.atomic`` on every configured alias before
any other middleware runs and decides at the very end, from the final response, whether to
commit. So the view, DRF's exception handler, template/renderer output and writes made by
later middleware (the session) are all inside the transaction, and a returned 422 rolls back
exactly like a raised exception. See "The rollback guarantee" in README.md for the contract
and its limits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.transaction import TransactionManagementError
from django.http import HttpRequest, HttpResponseServerError
from django.http.response import HttpResponseBase

from .atomic import OptOutMemory, non_atomic, view_facts
from .conf import get_setting

__all__ = ["DURABLE_MESSAGE", "AtomicRequestsMiddleware", "non_atomic"]

logger = logging.getLogger(__name__)

# Where the per-request state lives between __call__ and process_view.
_STATE_ATTR = "_apierrors_atomic"

# libpq's PQtransactionStatus values, shared by psycopg 2 and 3.
_PG_IDLE, _PG_INERROR = 0, 3

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
    # opt-out beats Django's generic message. Nothing else reads the attribute.
    @property
    def _from_testcase(self) -> bool:
        raise RuntimeError(DURABLE_MESSAGE)

    @_from_testcase.setter
    def _from_testcase(self, value: bool) -> None:
        pass  # Atomic.__init__ assigns False; we never come from a TestCase.


class _Block:
    __slots__ = ("alias", "atomic", "changes", "connection", "outermost", "pending",
                 "rollback_exc")

    def __init__(self, alias: str, connection: BaseDatabaseWrapper) -> None:
        self.alias = alias
        # Connections are per thread and every step of a request runs in one thread (the
        # thread-sensitive one under ASGI), so the lookup is done once.
        self.connection = connection
        self.atomic = _RequestAtomic(alias)
        nested = connection.in_atomic_block
        self.atomic.__enter__()
        # Only an outermost block commits; inside an outer transaction (a TestCase, a caller's
        # atomic, autocommit turned off) it is a savepoint and committing is the caller's.
        self.outermost = not nested and connection.commit_on_exit
        self.changes = _sqlite_changes(connection)
        # Django never clears rollback_exc; remember it to tell this request's error apart.
        self.rollback_exc = connection.rollback_exc
        self.pending = False  # has work to commit; set just before committing


class _RequestTransaction:
    """The atomic blocks of one request, in the order they were entered."""

    __slots__ = ("blocks", "is_api", "path_key", "skipped", "view_class", "view_func")

    def __init__(self, aliases: Iterable[str], path_key: tuple[str, str, str],
                 skipped: frozenset[str]) -> None:
        self.blocks: list[_Block] = []
        self.is_api = False
        self.view_class: type | None = None
        self.view_func: Any = None
        self.path_key = path_key
        self.skipped = skipped  # aliases not entered: the view here opted out last time
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
            elif _pg_status(connection) == _PG_INERROR:
                reason, cause = "is aborted by a failed statement", None
            else:
                continue
            return _raised(TransactionManagementError(
                f"The response was a success, but the request's transaction on database "
                f"{block.alias!r} {reason} (a database error was caught and not re-raised?); "
                f"it was rolled back, so the success would be false."
            ), cause)
        return None

    def commit_order(self) -> tuple[list[_Block], Exception | None]:
        """Order the blocks for committing, and surface commit-time errors early.

        With one alias a failed commit is harmless: Django rolls it back and we answer with
        an error. With several, a failure after another alias has committed cannot be
        undone. So the aliases with pending work commit first, the first of them unchecked
        (its failure still lets all others roll back) and the rest after checking their
        deferred constraints; aliases without work, which cannot fail, commit last.
        """
        pending: list[_Block] = []
        rest: list[_Block] = []
        for block in self.blocks:
            block.pending = block.outermost and _has_work(block)
            (pending if block.pending else rest).append(block)
        for block in pending[1:]:
            check = _PRE_COMMIT_CHECKS.get(block.connection.vendor)
            if check is None:
                continue
            try:
                check(block.connection)
            except DatabaseError as exc:
                return self.blocks, exc
        return pending + rest, None

    # -- ending blocks --------------------------------------------------------------------

    def close(self, blocks: list[_Block], commit: bool) -> Exception | None:
        """Commit (or roll back) ``blocks`` in order; return the commit error, if any.

        After the first failure the remaining blocks roll back. on_commit callbacks run at
        the end, for the aliases that committed.
        """
        error: Exception | None = None
        committed: list[_Block] = []
        hooks: list[tuple[BaseDatabaseWrapper, list[Any]]] = []
        # ``blocks`` is all of self.blocks (the end of the request) or one (an opt-out).
        self.blocks = [] if len(blocks) == len(self.blocks) else [
            b for b in self.blocks if b not in blocks
        ]
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
                ", ".join(repr(b.alias) for b in committed), exc_info=error,
            )
        for connection, callbacks in hooks:
            _run_commit_hooks(connection, callbacks)
        return error

    def abort(self) -> None:
        """Roll everything back while an exception propagates; never mask that exception."""
        for block in reversed(self.blocks):
            try:
                _rollback(block)
            except Exception:
                logger.exception("Rolling back database %r failed", block.alias)
        self.blocks.clear()

    def finish(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        """Commit or roll back according to ``response``; return the response to send."""
        if not self.blocks:
            return response
        if not self.succeeded(response.status_code):
            self.close(list(self.blocks), commit=False)
            return response
        error = self.rollback_error(self.blocks)
        if error is None:
            order, error = self.commit_order()
        if error is not None:
            self.close(list(self.blocks), commit=False)
        else:
            error = self.close(order, commit=True)
            if error is None:
                return response
        return _error_response(request, error, self.view_class or self.view_func)

    def see_view(self, request: HttpRequest, view_func: Any) -> tuple[list[str], list[_Block]]:
        """Record the resolved view; return the aliases to enter late and the blocks to leave."""
        self.view_func = view_func
        self.view_class, self.is_api, opted_out = view_facts(request, view_func)
        if not opted_out and not self.skipped:
            return [], []
        _OPT_OUTS.learn(self.path_key, opted_out)
        # A skipped alias the view does not opt out of: the guess from this path's last
        # request was wrong. Entering now covers the view and everything after it.
        late = [alias for alias in self.skipped if alias not in opted_out]
        leave = [block for block in self.blocks if block.alias in opted_out]
        return late, leave

    def adjust(self, late: list[str], leave: list[_Block]) -> None:
        """Enter ``late`` aliases; commit and leave ``leave`` before an opted-out view runs."""
        for alias in late:
            self.blocks.append(_Block(alias, connections[alias]))
        for block in leave:
            if block.connection.atomic_blocks[-1:] != [block.atomic]:
                # Something opened its own atomic block inside ours and is still in it; the
                # view runs inside that one anyway, and leaving ours now would corrupt both.
                logger.warning(
                    "Cannot run the view outside the request transaction on %r: another "
                    "atomic block is open inside it.", block.alias,
                )
                continue
            error = self.rollback_error([block])
            if error is not None:
                self.close([block], commit=False)
                raise error
            error = self.close([block], commit=True)
            if error is not None:
                raise error


class AtomicRequestsMiddleware:
    """Run each request in ``transaction.atomic`` on every configured database alias.

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
        try:
            state = _begin(request)
        except DatabaseError as exc:  # a database is unreachable: answer 503, not a crash
            return _error_response(request, exc, None)
        try:
            response = self.get_response(request)
            return state.finish(request, response)
        except BaseException:
            state.abort()  # a no-op once finish() has ended every block
            raise

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        # Every database step runs in the request's thread-sensitive thread: the one that
        # sync views and the async ORM (sync_to_async) use, so it is the same connection.
        try:
            state = await sync_to_async(_begin)(request)
        except DatabaseError as exc:
            return await sync_to_async(_error_response)(request, exc, None)
        try:
            response = await self.get_response(request)
            return await sync_to_async(state.finish)(request, response)
        except BaseException:
            await sync_to_async(state.abort)()
            raise

    def process_view(self, request: HttpRequest, view_func: Any, view_args: Any,
                     view_kwargs: Any) -> None:
        state = request.__dict__.get(_STATE_ATTR)
        if state is not None:
            late, leave = state.see_view(request, view_func)
            if late or leave:
                state.adjust(late, leave)

    async def _aprocess_view(self, request: HttpRequest, view_func: Any, view_args: Any,
                             view_kwargs: Any) -> None:
        state = request.__dict__.get(_STATE_ATTR)
        if state is not None:
            late, leave = state.see_view(request, view_func)
            if late or leave:
                await sync_to_async(state.adjust)(late, leave)


# -- helpers ------------------------------------------------------------------------------

# Paths whose view opted out (per process; see OptOutMemory).
_OPT_OUTS = OptOutMemory()


def _aliases() -> list[str]:
    configured = get_setting("ATOMIC_DATABASES")
    if configured is None:
        return list(connections.settings)
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
    """Enter the request's blocks, except on aliases this path's view opted out of before."""
    aliases = _aliases()
    # The method is part of the key: a handler method may opt out on its own.
    path_key = (settings.ROOT_URLCONF, request.method or "", request.path_info)
    skipped = _OPT_OUTS.get(path_key)
    if skipped:
        skipped = skipped.intersection(aliases)
        aliases = [alias for alias in aliases if alias not in skipped]
    state = _RequestTransaction(aliases, path_key, skipped)
    setattr(request, _STATE_ATTR, state)
    return state


def _rollback(block: _Block) -> None:
    connection = block.connection
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
            "its status because the data is committed.", connection.alias,
        )


def _pg_status(connection: BaseDatabaseWrapper) -> int | None:
    if connection.vendor != "postgresql" or connection.connection is None:
        return None
    return int(connection.connection.info.transaction_status)


def _sqlite_changes(connection: BaseDatabaseWrapper) -> int | None:
    if connection.vendor != "sqlite" or connection.connection is None:
        return None
    return connection.connection.total_changes


def _has_work(block: _Block) -> bool:
    """Whether the alias may have something to commit (cheap, no query)."""
    connection = block.connection
    if connection.vendor == "postgresql":
        return _pg_status(connection) not in (None, _PG_IDLE)
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


def _error_response(request: HttpRequest, exc: BaseException, view: Any) -> HttpResponseBase:
    """The error response for a failure found by the middleware, in the request's format.

    ``view`` is None when the failure came before routing (a database down at the start):
    the view owning the path then chooses the format, as for Django's own 404 under the API.
    """
    if view is None:
        from .views import owning_view

        view = owning_view(request)
    error_format = getattr(view, "error_format", None)
    try:
        from .handler import build_error_response

        return build_error_response(
            request, exc, SimpleNamespace(error_format=error_format) if error_format else None
        )
    except Exception:
        logger.exception("Could not build the error response for %r", exc)
        return HttpResponseServerError("Internal server error", content_type="text/plain")
