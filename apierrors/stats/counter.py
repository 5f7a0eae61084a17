"""Error responses counted in memory, flushed to the shared store every few seconds.

Recording a response is a dictionary increment under a lock: no query, no network, nothing
that can block or fail the response. A daemon thread per process writes the counts to the
store (``store.py``) every ``STATS_FLUSH_SECONDS``, in one round trip. Why a thread, not a
flush on the request path once the interval has elapsed: that flush would be a round trip
(or a stall, with the store down) on the response that happened to trigger it; the thread
costs nothing per response, and ``os.register_at_fork`` gives each forked worker a fresh
counter whose thread starts with its first error response (gunicorn ``--preload`` included).

What is lost: a process killed with SIGKILL loses its unflushed interval; a normal exit
(gunicorn's graceful stop, ``sys.exit``) flushes at exit. A store that is down keeps the
counts in memory, bounded by ``MAX_CELLS``, and the next flush that reaches it writes them.

Under a test runner (Django's test environment, pytest-django's included) no thread is ever
started and nothing is flushed by itself: a host's test suite gets no connection, thread or
socket from this. Tests call ``flush()`` when they want the counts written.
"""

import atexit
import logging
import os
import threading
import time
from typing import Any

from django.utils.functional import LazyObject, empty

from .conf import ANONYMOUS, OTHER_LANGUAGE, StatsConfig, load_config

logger = logging.getLogger("apierrors.stats")

# (entry key, hour since the epoch UTC, status, format, language) -> responses.
Cell = tuple[str, int, int, str, str]
Counts = dict[Cell, int]
# (entry key, day since the epoch UTC) -> {caller: responses}, as flushed: the top
# MAX_CALLERS per entry and day, the rest summed as OTHERS.
Callers = dict[tuple[str, int], dict[str, int]]

# Distinct cells held in memory at most (live and waiting for a store that is down): at a
# few hundred bytes each, a few MB. Beyond it, new cells are dropped and counted.
MAX_CELLS = 50_000
# Distinct callers per entry and day a flush writes; the rest count as OTHERS.
MAX_CALLERS = 100
OTHERS = "(others)"
CALLER_MAX_LENGTH = 150


class Counter:
    """The process's counts. ``record`` is the hot path; ``flush`` writes them."""

    def __init__(self) -> None:
        self.config: StatsConfig | None = None
        # None: decide on the first record (start the flusher unless under a test runner);
        # True/False: forced (tests of the thread itself set True).
        self.auto_flush: bool | None = None
        self._store: Any = None
        self._init_state()

    def _init_state(self) -> None:
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._counts: Counts = {}
        # (entry key, day, caller) -> responses, grouped per entry and day when flushed.
        self._callers: dict[tuple[str, int, str], int] = {}
        # Counts a failed flush could not write, merged into the next one.
        self._waiting: tuple[Counts, Callers] | None = None
        self._thread: threading.Thread | bool | None = None
        self._wake = threading.Event()
        self._hour, self._day, self._hour_ends = 0, 0, 0.0
        self.dropped = 0
        self._warned: set[str] = set()

    # -- configuration ---------------------------------------------------------------------

    def configure(self) -> StatsConfig:
        config = self.config = load_config()
        return config

    def reset(self) -> None:
        """Forget the resolved settings and store (a test changed them); counts stay."""
        self.config = None
        store, self._store = self._store, None
        if store is not None:
            store.close()

    def clear(self) -> None:
        """Discard the counts not flushed yet (tests start from nothing)."""
        with self._lock:
            self._counts, self._callers = {}, {}
            self._waiting = None
            self.dropped = 0

    def store(self) -> Any:
        store = self._store
        if store is None:
            from .store import get_store

            store = self._store = get_store(self.config or self.configure())
        return store

    # -- the hot path ----------------------------------------------------------------------

    def record(
        self, key: str, status: int, format_name: str, language: str, request: Any = None
    ) -> None:
        """Count one error response (an in-memory increment)."""
        config = self.config or self.configure()
        if not config.enabled:
            return
        if language not in config.languages:
            base = language.split("-")[0]
            language = base if base in config.languages else OTHER_LANGUAGE
        now = time.time()
        if now >= self._hour_ends:  # once an hour: the bucket this response falls in
            self._hour = int(now // 3600)
            self._day = self._hour // 24
            self._hour_ends = (self._hour + 1) * 3600
        cell = (key, self._hour, status, format_name, language)
        caller = (
            None if config.caller_label is None else (key, self._day, caller_of(request, config))
        )
        with self._lock:
            counts = self._counts
            n = counts.get(cell)
            if n is None:
                if len(counts) >= MAX_CELLS:
                    self.dropped += 1
                    return
                counts[cell] = 1
            else:
                counts[cell] = n + 1
            if caller is not None:
                callers = self._callers
                n = callers.get(caller)
                if n is not None:
                    callers[caller] = n + 1
                elif len(callers) < MAX_CELLS:
                    callers[caller] = 1
                else:  # bounded: the rest of this interval's callers count as one
                    others = (key, self._day, OTHERS)
                    callers[others] = callers.get(others, 0) + 1
        if self._thread is None:
            self._start_flusher(config)

    def pending(self) -> int:
        """Responses counted here and not written to the store yet."""
        with self._lock:
            waiting = sum(self._waiting[0].values()) if self._waiting else 0
            return sum(self._counts.values()) + waiting

    # -- flushing --------------------------------------------------------------------------

    def flush(self) -> int:
        """Write this process's counts to the store now (one round trip).

        Returns the number of responses written; 0 when there were none or the store could
        not be reached (the counts then wait for the next flush). Never raises.
        """
        with self._flush_lock:
            with self._lock:
                counts, callers = self._counts, self._callers
                self._counts, self._callers = {}, {}
                waiting, self._waiting = self._waiting, None
            callers = _top_callers(callers)
            if counts:
                from . import prometheus

                prometheus.observe(counts)  # once per response, whatever the store does
            if waiting:
                counts, callers = _merge(waiting, (counts, callers))
            if not counts and not callers:
                return 0
            try:
                store = self.store()
                store.write(
                    counts,
                    callers,
                    self.config or self.configure(),
                    keep_open=threading.current_thread() is self._thread,
                )
            except Exception as exc:
                self._keep(counts, callers)
                if "store" not in self._warned:
                    self._warned.add("store")
                    logger.warning(
                        "Error statistics not written (%s: %s); %d responses wait "
                        "in memory and are written when the store is back.",
                        type(exc).__name__,
                        exc,
                        sum(counts.values()),
                    )
                return 0
            if "store" in self._warned:
                self._warned.discard("store")
                logger.warning(
                    "Error statistics written again (%d responses).", sum(counts.values())
                )
            return sum(counts.values())

    def _keep(self, counts: Counts, callers: Callers) -> None:
        """Put counts a flush could not write back in line, within MAX_CELLS."""
        with self._lock:
            room = MAX_CELLS - len(self._counts)
            if len(counts) > room:
                kept = dict(list(counts.items())[: max(0, room)])
                self.dropped += sum(counts.values()) - sum(kept.values())
                counts = kept
            waiting = self._waiting
            if waiting:
                counts, callers = _merge(waiting, (counts, callers))
            callers = _capped(callers)
            if sum(len(per) for per in callers.values()) > MAX_CELLS:
                # A long outage: keep the latest days' callers within the same bound.
                kept, budget = {}, MAX_CELLS
                for group in sorted(callers, key=lambda g: -g[1]):
                    budget -= len(callers[group])
                    if budget < 0:
                        break
                    kept[group] = callers[group]
                callers = kept
            self._waiting = (counts, callers)

    def _start_flusher(self, config: StatsConfig) -> None:
        with self._lock:
            if self._thread is not None:
                return
            auto = self.auto_flush if self.auto_flush is not None else not _under_test_runner()
            if not auto:
                self._thread = False
                return
            thread = threading.Thread(
                target=self._run, args=(self._wake,), name="apierrors-stats-flusher", daemon=True
            )
            self._thread = thread
        atexit.register(self._flush_at_exit, thread)
        thread.start()

    def _run(self, wake: threading.Event) -> None:
        while True:
            interval = (self.config or self.configure()).flush_seconds
            if wake.wait(interval):
                if self._store is not None:
                    self._store.close()  # the connection this thread kept open
                return  # stop() asked
            try:
                self.flush()
            except Exception:  # pragma: no cover - flush() catches its own errors
                logger.exception("Error statistics flush failed")

    def stop(self) -> None:
        """Stop this process's flusher thread (tests); the next record starts another."""
        thread = self._thread
        if isinstance(thread, threading.Thread):
            self._wake.set()
            thread.join(timeout=10)
        self._wake = threading.Event()
        self._thread = None

    def _flush_at_exit(self, thread: threading.Thread) -> None:
        if thread is self._thread:  # not a thread of a parent process, nor a stopped one
            self.flush()

    def _after_fork_in_child(self) -> None:
        # Counts are the parent's to write; locks may have been held by a parent's thread at
        # the fork; the store's sockets are shared with the parent: keep a reference (never
        # close it from here, which would end the parent's connection) and start afresh.
        if self._store is not None:
            _ABANDONED.append(self._store)
        self._store = None
        self._init_state()


_ABANDONED: list[Any] = []


def _merge(a: tuple[Counts, Callers], b: tuple[Counts, Callers]) -> tuple[Counts, Callers]:
    counts = dict(a[0])
    for cell, n in b[0].items():
        counts[cell] = counts.get(cell, 0) + n
    callers = {group: dict(per) for group, per in a[1].items()}
    for group, per in b[1].items():
        into = callers.setdefault(group, {})
        for caller, n in per.items():
            into[caller] = into.get(caller, 0) + n
    return counts, callers


def _top_callers(flat: dict[tuple[str, int, str], int]) -> Callers:
    """Group by entry and day, keeping the top MAX_CALLERS (the rest summed as OTHERS)."""
    grouped: Callers = {}
    for (key, day, caller), n in flat.items():
        grouped.setdefault((key, day), {})[caller] = n
    return _capped(grouped)


def _capped(callers: Callers) -> Callers:
    """At most MAX_CALLERS per entry and day: the top ones, the rest summed as OTHERS."""
    for group, per in callers.items():
        if len(per) > MAX_CALLERS:
            ranked = sorted(per.items(), key=lambda item: -item[1])
            kept = dict(ranked[: MAX_CALLERS - 1])
            kept[OTHERS] = kept.get(OTHERS, 0) + sum(n for _c, n in ranked[MAX_CALLERS - 1 :])
            callers[group] = kept
    return callers


def _under_test_runner() -> bool:
    """Django's setup_test_environment() (its runner, pytest-django) installs mail.outbox."""
    from django.core import mail

    return hasattr(mail, "outbox")


def caller_of(request: Any, config: StatsConfig) -> str:
    """The authenticated caller's label, without authenticating anyone (no query).

    Only a user already resolved counts: DRF's once its authentication ran, Django's once
    something evaluated ``request.user``. A caller whose authentication had not run when the
    error was raised (an unknown URL, a failure before DRF's ``initial``) is "anonymous".
    Attributes are read from ``__dict__``: DRF's ``Request.__getattr__`` (and a lazy user)
    must not run here.
    """
    attrs = getattr(request, "__dict__", None)
    if not attrs:
        return ANONYMOUS
    user = attrs.get("_user")  # DRF's Request, once authenticated
    if user is None:
        inner = attrs.get("_request")  # DRF's wrapper around Django's request
        if inner is not None:
            attrs = inner.__dict__
        user = attrs.get("user")
        # type(), not isinstance(): a LazyObject proxies __class__, which would evaluate it.
        if user is not None and issubclass(type(user), LazyObject):
            user = user._wrapped
            if user is empty:
                return ANONYMOUS
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    label = config.caller_label(user) if config.caller_label is not None else ANONYMOUS
    return (str(label) or ANONYMOUS)[:CALLER_MAX_LENGTH]


counter = Counter()
os.register_at_fork(after_in_child=counter._after_fork_in_child)
