"""Fixtures and helpers for the error-statistics tests.

``stats_store`` runs a test once per store: the database (always; the run's own database) and
Redis (when it is reachable: the run's Redis, or APIERRORS_REDIS_URL's for the SQLite run).
Each starts from an empty counter; the database store's tests are transactional, because its
writes go through a connection of its own and commit (a TestCase's rollback could not undo
them, and on SQLite they would wait for the test's open transaction).
"""

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.core.cache import caches

from apierrors.stats.counter import Callers, Counts, counter
from apierrors.stats.store import now_hour

from ..conftest import require_service

REDIS_URL = os.environ.get("APIERRORS_REDIS_URL", "redis://127.0.0.1:6379/0")


def use_redis_cache(settings, location: str = REDIS_URL) -> None:
    """Point the default cache (and so the stats store) at Redis, emptied."""
    prefix = f"apierrors-stats{os.environ.get('APIERRORS_TEST_DB_SUFFIX', '')}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    with contextlib.suppress(Exception):  # a Redis the test made unreachable on purpose
        caches["default"].clear()


def fresh_counter() -> None:
    counter.stop()
    counter.clear()
    counter.reset()
    counter.auto_flush = None


@pytest.fixture(params=["database", "redis"])
def stats_store(request, settings, transactional_db):
    """The store kind in use ("database" or "redis"), with an empty counter."""
    from apierrors.dictionary.sync import sync_declared_codes

    if request.param == "redis":
        require_service("redis")
        use_redis_cache(settings)
    settings.APIERRORS = {**settings.APIERRORS, "STATS_STORE": request.param}
    sync_declared_codes()  # a transactional test before may have emptied the dictionary
    fresh_counter()
    assert counter.store().name == request.param
    yield request.param
    fresh_counter()


def write_cells(cells: Counts, callers: Callers | None = None) -> None:
    """Write counts straight into the store, as a flush would (for past hours)."""
    counter.store().write(cells, callers or {}, counter.config or counter.configure())


def hours_ago(n: int) -> int:
    return now_hour() - n


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A private redis-server on 127.0.0.1 that a test can stop and start again."""

    def __init__(self, tmp_path: Path) -> None:
        if shutil.which("redis-server") is None:
            pytest.skip(
                "needs the redis-server program (Debian's redis-server package) to stop and"
                " restart a Redis of its own; it is not installed here"
            )
        self.port = free_port()
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("redis-server did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


# The browser test's fixtures: Debian's chromium driven by Playwright, a live server.
from ..test_browser import browser_page, server  # noqa: E402, F401
