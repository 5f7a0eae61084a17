"""The dictionary at run time: held in memory per process, checked against a cache stamp.

An error response reads the dictionary without touching the database: each process keeps every
entry in memory and compares its copy's *stamp* with the one in Django's cache. Saving or
deleting an entry writes a new stamp when the transaction commits (``signals.py``).

How fresh: the process that made an edit drops its copy at once (on commit); every other
process reads the stamp at most once per ``APIERRORS["STAMP_CHECK_SECONDS"]`` (default 0.5),
so it serves an edit within that time of the commit, plus one reload. Between two checks an
error response reads nothing at all (no cache round trip, no query). ``0`` checks on every
error response. A process-local cache (LocMem, Dummy) is never read: only this process's own
edits, which it knows of, can change it.

Only committed data is ever kept: a transaction that changed the dictionary and has not
committed yet (the admin saving, then failing) reads its own edit for its own lookups, but
that read is never kept as the process's copy, so a rollback leaves nothing behind.

The database may be unusable exactly when an error is being rendered (aborted transaction,
server down) and so may the cache. A stale copy is then reloaded on a second connection if the
request's transaction is the problem; otherwise the last known copy is used and, before any
copy was loaded, the entries declared in code. Each kind of failure is logged once per outage.
"""

import itertools
import logging
import os
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.db import DatabaseError, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language, gettext, override

from ..conf import DEFAULTS, api_settings
from .declared import DECLARED, FALLBACK_KEY, DeclaredError, ErrorFields
from .message_template import ParsedTemplate, parse_template, render_template

logger = logging.getLogger("apierrors.catalog")

# The version in the key lets a future release change what is stored without reading old stamps.
STAMP_KEY = "apierrors:catalog:v1:stamp"


@dataclass(frozen=True, slots=True, eq=False)
class Entry(ErrorFields):
    """One dictionary entry, ready to render: templates pre-parsed, translations at hand.
    Frozen as a copy of committed data must be; only its own caches fill in."""

    is_public: bool = True
    # language -> (title, message template); blank parts fall back to the entry's own text.
    translations: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # The code's declaration while the text is unedited: then gettext's translations apply.
    declared: DeclaredError | None = None
    # Last edit of the row or its translations (the published dictionary's Last-Modified).
    updated_at: datetime | None = None
    _localized: dict[str, tuple[str, ParsedTemplate]] = field(default_factory=dict, repr=False)
    _type_path: str | None = field(default=None, repr=False)

    def localized(self, language: str | None = None) -> tuple[str, ParsedTemplate]:
        """(title, parsed message) in the given or active language, cached per language."""
        language = language or get_language() or ""
        cached = self._localized.get(language)
        if cached is None:
            cached = self._localized[language] = self._localize(language)
        return cached

    def _localize(self, language: str) -> tuple[str, ParsedTemplate]:
        title, message = self.title, self.message
        if self.declared is not None:
            # In the language asked for (not necessarily the active one: the result is
            # cached under it).
            with override(language or get_language()):
                title = shipped_text(title, self.declared.title)
                message = shipped_text(message, self.declared.message)
        translated = translation_for(self.translations, language)
        if translated is not None:
            title, message = translated[0] or title, translated[1] or message
        try:
            parsed = parse_template(message)
        except Exception:  # an unsafe translation must not break the response
            parsed = ((message, None),)
        return title, parsed

    def render_message(self, params: Mapping[str, Any] | None = None) -> str:
        return self.localized_texts(params)[1]

    def localized_texts(self, params: Mapping[str, Any] | None = None) -> tuple[str, str]:
        """(title, rendered message) in the active language, which is looked up once."""
        title, parsed = self.localized()
        if len(parsed) == 1 and parsed[0][1] is None:  # no placeholder: the text as it is
            return title, parsed[0][0]
        return title, render_template(parsed, params or {})

    @property
    def type_path(self) -> str | None:
        """Path of this entry's page in the published dictionary, if the project serves it."""
        if self._type_path is None:
            try:
                type_path = reverse("apierrors:entry", kwargs={"key": self.key})
            except NoReverseMatch:
                type_path = ""
            object.__setattr__(self, "_type_path", type_path)  # a cache, as _localized
        return self._type_path or None


def translation_for(
    translations: Mapping[str, tuple[str, str]], language: str
) -> tuple[str, str] | None:
    """The translation a caller in ``language`` reads: its own code's, else its base
    language's (``pt-br``, then ``pt``); blank parts of it fall back to the entry's text."""
    found = translations.get(language)
    if found is None:
        found = translations.get(language.split("-")[0])
    return found


def shipped_text(text: str, declared_text: str | None) -> str:
    """``text`` in the active language: the shipped .po/.mo translation while it is the
    unedited built-in text (``declared_text``), else ``text`` itself (an edit has no .po)."""
    if text and text == declared_text:
        return gettext(text)
    return text


def entry_from_declared(declared: DeclaredError) -> Entry:
    return Entry(**declared.values(), declared=declared)


@dataclass(frozen=True, slots=True, eq=False)
class _OverriddenEntry(Entry):
    """An entry under a test override: an overridden title or message wins in every language
    (over gettext's catalogues and the database's translations)."""

    fixed_title: str | None = None
    fixed_message: ParsedTemplate | None = None

    def _localize(self, language: str) -> tuple[str, ParsedTemplate]:
        title, parsed = Entry._localize(self, language)
        if self.fixed_title is not None:
            title = self.fixed_title
        if self.fixed_message is not None:
            parsed = self.fixed_message
        return title, parsed


_COPIED_FIELDS = tuple(f.name for f in fields(Entry) if f.init and not f.name.startswith("_"))


class EntryOverride:
    """One active override of one key (``apierrors.testing``): field changes laid on top of
    whatever the catalog holds for the key, so a reload during the test keeps it."""

    __slots__ = ("_last", "base", "changes", "key", "parsed_message")

    def __init__(self, base: Entry, changes: Mapping[str, Any]) -> None:
        self.key = base.key
        # Used only when the catalog no longer has the key (e.g. a database-only entry after
        # a reset, in a test that may not query).
        self.base = base
        self.changes = dict(changes)
        message = self.changes.get("message")
        self.parsed_message = None if message is None else parse_template(message)
        self._last: tuple[Entry, Entry] | None = None

    def apply(self, entry: Entry) -> Entry:
        last = self._last  # one tuple, read once: safe against a concurrent apply()
        if last is not None and last[0] is entry:
            return last[1]
        values = {name: getattr(entry, name) for name in _COPIED_FIELDS}
        values.update(self.changes)
        result = _OverriddenEntry(
            **values,
            _type_path=entry._type_path,
            fixed_title=self.changes.get("title", getattr(entry, "fixed_title", None)),
            fixed_message=(
                self.parsed_message
                if self.parsed_message is not None
                else getattr(entry, "fixed_message", None)
            ),
        )
        self._last = (entry, result)
        return result


def load_entries(using: str | None = None) -> dict[str, Entry]:
    """Read the whole dictionary from the database (two queries).

    When the request's own transaction cannot run a query (PostgreSQL aborted it after a
    failed statement, or it is marked for rollback) or reads an old snapshot (REPEATABLE
    READ), a short-lived second connection reads the committed dictionary instead, so an
    edit made elsewhere is still seen.
    """
    return read_dictionary(using)[0]


def read_dictionary(using: str | None = None) -> tuple[dict[str, Entry], bool]:
    """``load_entries``, and whether what it read is committed: False when the current
    transaction has changed the dictionary and not committed yet (its own edits are in it)."""
    from ..models import ErrorCode

    # The primary: a replica may not have the edit whose stamp we are about to adopt yet.
    using = using or router.db_for_write(ErrorCode)
    connection = connections[using]
    if transaction_unusable(connection) or _snapshot_may_be_old(connection):
        return _load_on_side_connection(using), True
    committed = not uncommitted_changes(connection)
    return _load(using), committed


def uncommitted_changes(connection: BaseDatabaseWrapper) -> tuple["_Publication", ...]:
    """The dictionary changes the open transaction on ``connection`` has made and not yet
    committed (their publications, waiting in its on_commit list); () outside a transaction.
    Writes that send no signal are seen once ``dictionary_changed()`` was called."""
    if not connection.in_atomic_block:
        return ()
    return tuple(
        pending[1]
        for pending in connection.run_on_commit
        if isinstance(pending[1], _Publication) and not pending[1].done
    )


# libpq's PQtransactionStatus values, shared by psycopg 2 and 3.
PG_IDLE, PG_INERROR = 0, 3


def pg_transaction_status(connection: BaseDatabaseWrapper) -> int | None:
    """libpq's status of ``connection``'s transaction (no query); None off PostgreSQL or
    before it connected."""
    if connection.vendor != "postgresql" or connection.connection is None:
        return None
    return int(connection.connection.info.transaction_status)


def transaction_unusable(connection: BaseDatabaseWrapper) -> bool:
    """Whether a query on ``connection`` would fail because of its transaction (no query)."""
    if connection.in_atomic_block and (
        connection.needs_rollback or connection.closed_in_transaction
    ):
        return True
    # Every statement fails until a rollback.
    return pg_transaction_status(connection) == PG_INERROR


def _snapshot_may_be_old(connection: BaseDatabaseWrapper) -> bool:
    """Whether the open transaction reads a snapshot taken earlier (REPEATABLE READ or
    SERIALIZABLE), which may predate the edit whose stamp we are about to adopt."""
    if not connection.in_atomic_block:
        return False
    level = getattr(connection, "isolation_level", None)
    if connection.vendor == "postgresql":
        return level is not None and int(level) > 2  # psycopg's READ_COMMITTED is 2
    if connection.vendor == "mysql":
        return level in (None, "", "repeatable read", "serializable")  # "": server default
    return False


def _load_on_side_connection(using: str) -> dict[str, Entry]:
    # The ORM reads through connections[using]: swap in a fresh connection for this thread
    # only, and close it right after (reloads are rare; an idle extra connection is not).
    main = connections[using]
    side = connections.create_connection(using)
    connections[using] = side
    try:
        return _load(using)
    finally:
        connections[using] = main
        side.close()


def _load(using: str) -> dict[str, Entry]:
    from ..models import ENTRY_FIELDS, ErrorCode

    # A savepoint keeps a failed read from aborting the caller's PostgreSQL transaction.
    with transaction.atomic(using=using):
        rows = list(ErrorCode.objects.using(using).prefetch_related("translations"))
    entries = {}
    for row in rows:
        declared = DECLARED.get(row.key)
        entries[row.key] = Entry(
            **{f: getattr(row, f) for f in ENTRY_FIELDS},
            translations={t.language: (t.title, t.message) for t in row.translations.all()},
            declared=declared,
            updated_at=max([row.updated_at, *(t.updated_at for t in row.translations.all())]),
        )
    return entries


class Catalog:
    """The process's copy of the dictionary.

    A lookup reads the cache stamp (no query), at most once per ``STAMP_CHECK_SECONDS``, and
    reloads only when it differs from the stamp the copy was loaded under, or when this
    process changed the dictionary itself. The stamp is read *before* the rows, so an edit
    committed during a load is caught by the next check.
    """

    # After a failure, use the copy at hand for this long instead of retrying on every error
    # response: a server that is down may take a connect timeout to say so.
    db_retry_interval: float = 5.0
    cache_retry_interval: float = 1.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generations = itertools.count(1)
        # Test overrides (apierrors.testing), key -> layers, innermost last. Process-wide (a
        # live server's thread sees them), kept by reset() and reloads, replaced as a whole
        # on change (never mutated in place) so readers need no lock; empty outside tests.
        self._overrides: dict[str, tuple[EntryOverride, ...]] = {}
        self._override_lock = threading.Lock()
        self.reset()

    # -- reading ---------------------------------------------------------------------------

    def get(self, key: str) -> Entry:
        """The entry for ``key``; an unknown key gives the internal-error entry (and a log)."""
        entry = self._current().get(key)
        if self._overrides:  # falsy outside tests: the only cost on the hot path
            return self._overridden(key, entry)
        if entry is None:
            entry = self._declared_entry(key)
        return entry

    def entries(self) -> dict[str, Entry]:
        current = self._current()
        merged = {k: self._declared_entry(k) for k in DECLARED if k not in current}
        merged.update(current)
        overrides = self._overrides
        for key in overrides:
            merged[key] = self._overridden(key, merged.get(key), overrides)
        return merged

    def base_entry(self, key: str) -> Entry | None:
        """The entry for ``key`` without test overrides; None if neither loaded nor declared."""
        entry = self._current().get(key)
        if entry is None and key in DECLARED:
            entry = self._declared_entry(key)
        return entry

    # -- test overrides (apierrors.testing) ------------------------------------------------

    def _overridden(
        self,
        key: str,
        entry: Entry | None,
        overrides: Mapping[str, tuple[EntryOverride, ...]] | None = None,
    ) -> Entry:
        layers = (self._overrides if overrides is None else overrides).get(key)
        if entry is None:
            entry = layers[0].base if layers and key not in DECLARED else self._declared_entry(key)
        for layer in layers or ():
            entry = layer.apply(entry)
        return entry

    def add_override(self, override: EntryOverride) -> None:
        """Lay ``override`` on top of its key's entry until ``remove_override``."""
        with self._override_lock:
            layers = self._overrides.get(override.key, ())
            self._overrides = {**self._overrides, override.key: (*layers, override)}

    def remove_override(self, override: EntryOverride) -> None:
        """Undo ``add_override`` (in any order: other layers of the key stay)."""
        with self._override_lock:
            layers = tuple(o for o in self._overrides.get(override.key, ()) if o is not override)
            overrides = {k: v for k, v in self._overrides.items() if k != override.key}
            if layers:
                overrides[override.key] = layers
            self._overrides = overrides

    def _declared_entry(self, key: str) -> Entry:
        entry = self._declared.get(key)
        if entry is not None:
            return entry
        declared = DECLARED.get(key)
        if declared is None:
            self._warn_once(
                f"unknown:{key}",
                "Unknown error key %r: answering with %r.",
                key,
                FALLBACK_KEY,
                level=logging.ERROR,
            )
            if key == FALLBACK_KEY:  # pragma: no cover - the fallback is always declared
                raise LookupError(key)
            return self._entries.get(FALLBACK_KEY) or self._declared_entry(FALLBACK_KEY)
        # Kept, so its parsed templates are too: a database that is down costs no re-parsing.
        entry = self._declared[key] = entry_from_declared(declared)
        return entry

    # -- freshness -------------------------------------------------------------------------

    def refresh_if_stale(self) -> None:
        self._current()

    def _current(self) -> Mapping[str, Entry]:
        """The entries to answer from: the copy, checked against the stamp if it is time."""
        # The hot path of every error response: one clock read, no cache round trip. The
        # window belongs to one generation, so this process's own edit ends it at once.
        generation, until = self._fresh
        if generation == self._generation and time.monotonic() < until:
            return self._entries
        return self._check()

    def _check(self) -> Mapping[str, Entry]:
        stamp = self._read_stamp()
        generation = self._generation  # after the read, which moves it when the cache is back
        current = self._is_current(stamp)
        if not current:
            own = self._own_uncommitted_copy()
            if own is not None:
                return own
            with self._lock:
                current = self._is_current(stamp)  # another thread may have reloaded meanwhile
                if not current:
                    own = self._reload(stamp)
                    if own is not None:
                        return own
                    # Loaded now (under the stamp read, or the one it had to publish)?
                    current = self._loaded and self._loaded_generation == generation
        # Current, or the database failed and is retried later anyway: no check until then.
        if current or self._failed_state is not None:
            self._fresh = (generation, time.monotonic() + self._check_seconds())
        return self._entries

    def _check_seconds(self) -> float:
        seconds = self._check_interval
        if seconds is None:
            setting = api_settings.STAMP_CHECK_SECONDS
            try:
                seconds = max(0.0, float(setting))
            except (TypeError, ValueError):
                seconds = float(DEFAULTS["STAMP_CHECK_SECONDS"])
                self._warn_once(
                    "setting",
                    "APIERRORS['STAMP_CHECK_SECONDS'] is %r, not a number of seconds; using %s.",
                    setting,
                    seconds,
                )
            self._check_interval = seconds
        return seconds

    def _own_uncommitted_copy(self) -> Mapping[str, Entry] | None:
        """What this thread's transaction read after changing the dictionary, while that
        transaction is still open and has changed nothing more (see ``_hold_uncommitted``)."""
        held = getattr(self._own, "held", None)
        if held is None:
            return None
        connection, pending, generation, entries = held
        if (
            generation == self._generation
            and connections[connection.alias] is connection
            and uncommitted_changes(connection) == pending
        ):
            return entries
        self._own.held = None  # committed (a new generation) or rolled back (no longer pending)
        return None

    def _hold_uncommitted(self, entries: dict[str, Entry]) -> None:
        # Read inside a transaction that changed the dictionary: its own lookups see its
        # edit (as its own queries do), but no other thread, and no later transaction, may:
        # it can still roll back. Held per thread and checked against the transaction.
        from ..models import ErrorCode

        connection = connections[router.db_for_write(ErrorCode)]
        self._own.held = (connection, uncommitted_changes(connection), self._generation, entries)

    def _is_current(self, stamp: "str | _Unknown | None") -> bool:
        if not self._loaded or self._loaded_generation != self._generation:
            return False
        # An unreadable stamp keeps the copy: better possibly stale than a query per error.
        return stamp is _UNKNOWN or stamp == self._stamp

    def _reload(self, stamp: "str | _Unknown | None") -> Mapping[str, Entry] | None:
        """Load the copy; returns entries only when they are this transaction's uncommitted
        view, which is not kept as the copy."""
        state = (stamp, self._generation)
        if state == self._failed_state and time.monotonic() < self._db_retry_at:
            return None  # the database failed moments ago and nothing has changed since
        if stamp is None:
            # Publish a stamp before reading, so an edit committing after the read replaces it.
            # A cache that keeps nothing (DummyCache) gives None again: the copy then stays
            # until this process itself changes the dictionary.
            stamp = self._create_stamp()
        try:
            entries, committed = read_dictionary()
        except DatabaseError as exc:
            self._failed_state = (stamp, state[1])  # the stamp as the next lookup will read it
            self._db_retry_at = time.monotonic() + self.db_retry_interval
            self._warn_once(
                "database",
                "Error dictionary not readable from the database (%s); using the %s copy.",
                exc,
                "last known" if self._loaded else "code-declared",
            )
            return None
        except Exception as exc:
            # Not an outage: a test runner's guard (pytest-django's RuntimeError, Django's
            # DatabaseOperationForbidden) in a host's test that may make no query, or a bug
            # in a router. The response must not fail because the dictionary did; the next
            # lookup tries again (a guard answers at once, unlike a server that is down).
            logger.debug(
                "Error dictionary not loaded (%r); using the %s copy.",
                exc,
                "last known" if self._loaded else "code-declared",
            )
            return None
        if not committed:
            self._hold_uncommitted(entries)
            return entries
        self._warned.discard("database")
        self._failed_state = None
        self._entries, self._declared = entries, {}
        self._stamp, self._loaded_generation, self._loaded = stamp, state[1], True
        return None

    def _read_stamp(self) -> "str | _Unknown | None":
        if self._cache_retry_at and time.monotonic() < self._cache_retry_at:
            return _UNKNOWN
        try:
            self._cache()
            read = self._local.read_stamp
            if read is None:
                # No other process can publish there, and this one's own edits move the
                # generation: there is nothing to read (the system check warns about this).
                return _UNKNOWN
            stamp = read()
        except Exception as exc:  # any cache backend error: Redis down, bad config
            self._cache_retry_at = time.monotonic() + self.cache_retry_interval
            self._warn_once(
                "cache",
                "Error dictionary stamp not readable from the cache (%s); using the %s copy.",
                exc,
                "last known" if self._loaded else "database's or code-declared",
            )
            return _UNKNOWN
        if self._cache_retry_at:
            # The cache is back. Edits committed while it was down published no stamp: reload
            # once, and publish this process's own unpublished edit now.
            self._cache_retry_at = 0.0
            self._warned.discard("cache")
            self._generation = next(self._generations)
            if self._unpublished:
                self._publish()
                return self._read_stamp()  # the stamp just published (once: retry_at is 0)
        return stamp

    def _create_stamp(self) -> "str | _Unknown | None":
        try:
            cache = self._cache()
            cache.add(STAMP_KEY, uuid.uuid4().hex, timeout=None)
            return cache.get(STAMP_KEY)
        except Exception:  # the cache failed between two reads: keep the copy meanwhile
            return _UNKNOWN

    def _cache(self) -> Any:
        # Django's ``caches[...]`` costs a context-local lookup per call; the stamp is read on
        # every error response, so each thread keeps the object it got (until reset()).
        try:
            return self._local.cache
        except AttributeError:
            cache = caches[api_settings.CACHE_ALIAS]
            self._local.read_stamp = _stamp_reader(cache)
            self._local.cache = cache
            return cache

    def stamp_token(self) -> str:
        """A token that changes whenever the dictionary does (for ETags)."""
        stamp = self._stamp
        return stamp if isinstance(stamp, str) else f"local-{self._loaded_generation}"

    def reset(self) -> None:
        """Forget the in-memory copy and past failures (the next lookup reloads)."""
        self._entries: dict[str, Entry] = {}
        self._declared: dict[str, Entry] = {}
        self._stamp: str | _Unknown | None = None
        self._loaded = False
        self._generation = self._loaded_generation = next(self._generations)
        self._failed_state: tuple[Any, int] | None = None
        self._db_retry_at = self._cache_retry_at = 0.0
        self._unpublished = False
        self._warned: set[str] = set()
        self._local = threading.local()
        self._own = threading.local()  # a transaction's uncommitted view, per thread
        # (generation, monotonic deadline): no stamp check before it, for that generation.
        self._fresh: tuple[int, float] = (0, 0.0)
        self._check_interval: float | None = None

    def _after_fork(self) -> None:
        # gunicorn --preload forks after the app (maybe the copy) was loaded: a lock held by
        # another thread, or a cache client, must not be shared; check the stamp at once.
        self._lock = threading.Lock()
        self._local = threading.local()
        self._own = threading.local()
        self._fresh = (0, 0.0)

    def invalidate(self) -> None:
        """Make every process reload on its next lookup (call after a committed edit).

        This process reloads even when the cache cannot carry the news (down, DummyCache).
        """
        self._generation = next(self._generations)
        self._publish()

    def _publish(self) -> None:
        try:
            self._cache().set(STAMP_KEY, uuid.uuid4().hex, timeout=None)
        except Exception as exc:
            self._unpublished = True  # retried when the cache answers again
            self._warn_once(
                "cache-write",
                "Could not publish the error dictionary's new stamp "
                "(%s): other processes keep their copy until the cache is back.",
                exc,
            )
            return
        self._unpublished = False
        self._warned.discard("cache-write")

    def _warn_once(self, kind: str, msg: str, *args: object, level: int = logging.WARNING) -> None:
        if kind not in self._warned:
            self._warned.add(kind)
            logger.log(level, msg, *args)


def _stamp_reader(cache: Any) -> Any:
    """How this thread reads the stamp from ``cache``: None for a process-local cache.

    Django's RedisCache builds a new redis-py client for every operation, which costs more
    than the round trip itself; on the path of every error response, one client per thread
    is kept instead (reading the primary, as writes go there). Anything unexpected in
    Django's internals falls back to ``cache.get``. Kept: ~60 µs a read against
    ``cache.get``'s ~180-250 µs (measured; every error response with STAMP_CHECK_SECONDS=0);
    tests/test_framework_internals.py fails when Django's RedisCache internals change.
    """
    if isinstance(cache, LocMemCache | DummyCache):
        return None
    if isinstance(cache, RedisCache):
        try:
            key = cache.make_and_validate_key(STAMP_KEY)
            client = cache._cache.get_client(key, write=True)
            loads = cache._cache._serializer.loads

            def read_from_redis() -> Any:
                value = client.get(key)
                return None if value is None else loads(value)

            return read_from_redis
        except Exception:  # pragma: no cover - a Django version with other internals
            pass
    return lambda: cache.get(STAMP_KEY)


class _Unknown:
    """The stamp could not be read: keep whatever copy there is."""

    __slots__ = ()


_UNKNOWN: Any = _Unknown()

catalog = Catalog()
if hasattr(os, "register_at_fork"):  # pragma: no branch - POSIX
    os.register_at_fork(after_in_child=catalog._after_fork)


class _Publication:
    """The on_commit callback publishing one transaction's change (see dictionary_changed)."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = False

    def __call__(self) -> None:
        self.done = True
        catalog.invalidate()


def dictionary_changed(using: str | None = None) -> None:
    """Tell every process the dictionary changed, once the current transaction commits.

    Saving or deleting through the ORM, the admin or ``loaddata`` does this by itself
    (signals). Call it after writes that send no signals: ``QuerySet.update()``,
    ``bulk_create()``, ``bulk_update()``, raw SQL. Never publishes a rolled-back change.
    """
    from ..models import ErrorCode

    using = using or router.db_for_write(ErrorCode)
    connection = transaction.get_connection(using)
    # One publication per transaction, however many rows it writes (loaddata, bulk edits).
    # A rolled-back savepoint drops its callback, so a later edit registers again.
    if connection.in_atomic_block and any(
        isinstance(pending[1], _Publication) and not pending[1].done
        for pending in connection.run_on_commit
    ):
        return
    transaction.on_commit(_Publication(), using=using)


def get_entry(key: str) -> Entry:
    """The dictionary entry for ``key`` (never queries the database in steady state)."""
    return catalog.get(key)
