"""Exact across processes: gunicorn with 3 workers on PostgreSQL and Redis; N error responses
(rolled back, in several formats and languages) are N counted once flushed, on the Redis
store and on the database store (that one with --preload: workers forked from a master that
loaded the app). A graceful stop flushes again and counts nothing twice."""

import os
import time
from collections import Counter as Tally
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connections

from apierrors.stats.counter import counter
from apierrors.stats.store import now_hour
from testproject.gunicorn_server import GunicornServer

from .conftest import fresh_counter

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, databases="__all__"),
]

WORKERS = 3
N = 300
# (path, headers) → the response each request gets: a mix of entries, formats, languages.
REQUESTS = [
    ("/api/no-such-thing/", {}),
    ("/api/no-such-thing/", {"Accept-Language": "pl"}),
    ("/api/stats-test/write-then-fail/{i}/", {"Accept": "application/problem+json"}),
    ("/api/stats-test/write-then-fail/{i}/", {"Accept-Language": "es"}),
]


def gunicorn(store: str, preload: bool) -> GunicornServer:
    """gunicorn on 127.0.0.1 with the test's databases and statistics store. Its graceful
    stop lets each worker flush at exit."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.stats.multiprocess_settings",
        "APIERRORS_MP_DEFAULT_DB": connections["default"].settings_dict["NAME"],
        "APIERRORS_MP_OTHER_DB": connections["other"].settings_dict["NAME"],
        "APIERRORS_MP_STATS_STORE": store,
    }
    return GunicornServer(WORKERS, env, preload=preload, graceful_timeout=10)


@pytest.fixture
def shared_services(settings):
    redis = django_settings.CACHES["default"]["BACKEND"].endswith(".RedisCache")
    if connections["default"].vendor != "postgresql" or not redis:
        pytest.skip(
            "runs in the PostgreSQL + Redis suite (APIERRORS_DB=postgres "
            "APIERRORS_CACHE=redis): workers must share the database and the cache"
        )


def counted() -> Tally:
    """(key, status, format, language) → responses, as the store has them (last 2 hours)."""
    tally: Tally = Tally()
    store = counter.store()
    for key, _status in store.totals(now_hour() - 1, now_hour()):
        for _hour, status, fmt, language, n in store.series(
            key, "hour", now_hour() - 1, now_hour()
        ):
            tally[key, status, fmt, language] += n
    return tally


@pytest.mark.parametrize(("store", "preload"), [("redis", False), ("database", True)])
def test_n_error_responses_are_n_counted_once_flushed(shared_services, settings, store, preload):
    settings.APIERRORS = {**settings.APIERRORS, "STATS_STORE": store}
    fresh_counter()
    assert counter.store().name == store
    server = gunicorn(store, preload)
    try:
        server.wait_until_up()

        def send(i: int) -> tuple[int, tuple[str, int, str, str]]:
            path, headers = REQUESTS[i % len(REQUESTS)]
            response = requests.get(
                server.base + path.format(i=i),
                timeout=30,
                headers={**headers, "Connection": "close"},
            )
            fmt = "problem" if "problem" in response.headers["Content-Type"] else "fhir"
            language = headers.get("Accept-Language", "en")
            return (
                int(response.headers["X-Worker-Pid"]),
                (response.headers["X-Error-Key"], response.status_code, fmt, language),
            )

        with ThreadPoolExecutor(max_workers=2 * WORKERS) as pool:
            answers = list(pool.map(send, range(N)))
        sent = Tally(cell for _pid, cell in answers)
        assert sum(sent.values()) == N
        assert len({pid for pid, _cell in answers}) >= 2, "the workers did not share the load"

        # Each worker flushes every 0.5 s by itself: wait (bounded) for all N.
        deadline = time.monotonic() + 30
        while sum(counted().values()) < N and time.monotonic() < deadline:
            time.sleep(0.2)
        assert counted() == sent
        per_worker = Tally(pid for pid, _cell in answers)
        print(
            f"\n{store} store: {N} error responses from workers {sorted(per_worker.values())}"
            f" -> {sum(counted().values())} counted"
        )
    finally:
        server.stop()
    # The graceful stop flushed again at exit: nothing was left, nothing counted twice.
    assert counted() == sent
