"""The stamp's cache misbehaving: a cache that keeps nothing, one that is down, one that
goes down and comes back. Error responses stay right, query-free and quiet (one warning)."""

import contextlib
import json
import logging
import socket
import threading

import pytest
from django.core.cache import caches

from apierrors.dictionary.catalog import STAMP_KEY, catalog
from apierrors.models import ErrorCode

pytestmark = [
    pytest.mark.urls("tests.runtime.runtime_urls"),
    pytest.mark.django_db(databases="__all__"),
]

BOOKED = "This appointment time is no longer available."
REDIS_CACHE = "django.core.cache.backends.redis.RedisCache"


@pytest.fixture(autouse=True)
def without_transaction_middleware(settings):
    # These tests count queries: leave out AtomicRequestsMiddleware's SAVEPOINTs.
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "AtomicRequests" not in m]


def use_stamp_cache(settings, location: str, backend: str = REDIS_CACHE) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "stamp": {
            "BACKEND": backend,
            "LOCATION": location,
            "KEY_PREFIX": "apierrors-cat-test",
            # What the README asks of production: fail fast rather than hang the response.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    settings.APIERRORS = {**settings.APIERRORS, "CACHE_ALIAS": "stamp"}


def detail(client) -> str:
    response = client.get("/rt/problem/business/")
    assert response.status_code == 422
    return json.loads(response.content)["detail"]


def edit(message: str) -> None:
    row = ErrorCode.objects.get(key="appointment_unavailable")
    row.message = message
    row.save()


def warnings_from_catalog(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "apierrors.catalog" and r.levelno == logging.WARNING
    ]


def test_a_cache_that_keeps_nothing_costs_no_query_per_error(
    client, settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert detail(client) == BOOKED
    with django_assert_num_queries(0):
        assert detail(client) == BOOKED
        assert detail(client) == BOOKED
    # This process still sees its own edits (other processes cannot: the system check says so).
    with django_capture_on_commit_callbacks(execute=True):
        edit("Edited here.")
    assert detail(client) == "Edited here."
    with django_assert_num_queries(0):
        assert detail(client) == "Edited here."


def test_an_unreachable_cache_falls_back_to_the_database_once_and_warns_once(
    client,
    settings,
    caplog,
    monkeypatch,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    use_stamp_cache(settings, "redis://127.0.0.1:1/0")  # nothing listens there
    monkeypatch.setattr(catalog, "cache_retry_interval", 0)  # try it on every lookup
    ErrorCode.objects.filter(key="appointment_unavailable").update(message="In the table.")
    with caplog.at_level(logging.WARNING, logger="apierrors.catalog"):
        assert detail(client) == "In the table."  # a new process: read from the database
        with django_assert_num_queries(0):
            for _ in range(5):
                assert detail(client) == "In the table."
        # An edit made by this process is seen here, though it cannot be published.
        with django_capture_on_commit_callbacks(execute=True):
            edit("Edited while the cache is down.")
        assert detail(client) == "Edited while the cache is down."
        with django_assert_num_queries(0):
            assert detail(client) == "Edited while the cache is down."
            assert detail(client) == "Edited while the cache is down."
    warnings = warnings_from_catalog(caplog)
    assert len([w for w in warnings if "not readable from the cache" in w]) == 1, warnings
    assert len([w for w in warnings if "Could not publish" in w]) == 1, warnings


class TcpProxy:
    """A TCP forwarder to Redis that the test can stop and restart: Redis going down and
    coming back, as its clients see it, without touching the shared server."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            upstream = socket.create_connection(self.target, timeout=2)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    # Bytes sent to Redis, so a test can count the commands (RESP: b"$3\r\nGET").
    sent = b""

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if sink.getpeername()[1] == self.target[1]:
                    self.sent += data
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self.listener is not None:
            # shutdown() first: a thread blocked in accept() would keep the port listening.
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        self.sockets.clear()


@pytest.fixture
def redis_proxy():
    proxy = TcpProxy(("127.0.0.1", 6379))
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.mark.redis
def test_redis_going_down_and_coming_back(
    client,
    settings,
    caplog,
    monkeypatch,
    redis_proxy,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    use_stamp_cache(settings, f"redis://127.0.0.1:{redis_proxy.port}/3")
    # Read the stamp and retry Redis on every lookup (no check interval, no back-off), so it
    # is seen going and coming back at once; still one warning.
    settings.APIERRORS = {**settings.APIERRORS, "STAMP_CHECK_SECONDS": 0}
    caches["stamp"].clear()
    assert detail(client) == BOOKED
    stamp_before = caches["stamp"].get(STAMP_KEY)
    assert stamp_before is not None

    monkeypatch.setattr(catalog, "cache_retry_interval", 0)
    redis_proxy.stop()
    with caplog.at_level(logging.WARNING, logger="apierrors.catalog"):
        with django_assert_num_queries(0):
            for _ in range(5):
                assert detail(client) == BOOKED  # the last known copy, no query
        # An edit while Redis is down: this process sees it; the stamp can't be published.
        with django_capture_on_commit_callbacks(execute=True):
            edit("Edited during the outage.")
        assert detail(client) == "Edited during the outage."

        redis_proxy.start()
        assert detail(client) == "Edited during the outage."
    # Back: the edit made during the outage is published, so every other process reloads.
    assert caches["stamp"].get(STAMP_KEY) not in (None, stamp_before)
    warnings = warnings_from_catalog(caplog)
    assert len([w for w in warnings if "not readable from the cache" in w]) == 1, warnings
    with django_assert_num_queries(0):
        assert detail(client) == "Edited during the outage."


@pytest.mark.redis
def test_between_two_checks_an_error_response_reads_nothing_from_redis(
    client, settings, redis_proxy, django_assert_num_queries, django_capture_on_commit_callbacks
):
    use_stamp_cache(settings, f"redis://127.0.0.1:{redis_proxy.port}/3")
    settings.APIERRORS = {**settings.APIERRORS, "STAMP_CHECK_SECONDS": 60}
    caches["stamp"].clear()
    assert detail(client) == BOOKED  # a new process: reads the stamp, then the database
    redis_proxy.sent = b""
    with django_assert_num_queries(0):
        for _ in range(20):
            assert detail(client) == BOOKED
    assert redis_proxy.sent.count(b"GET") == 0
    # This process's own edit ends the interval at once: it is served on the next response.
    with django_capture_on_commit_callbacks(execute=True):
        edit("Edited in this process.")
    assert detail(client) == "Edited in this process."
