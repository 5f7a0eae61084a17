"""Error statistics: what a response counts, where counts go, and what they never do (query,
block, ride in the request's transaction, outlive a store outage unbounded, leak into a
forked worker). Each test runs on the database store and, when reachable, on Redis."""

import logging
import os
import threading
import time

import pytest
from django.contrib.auth.models import Group
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apierrors.stats import counter as counter_module
from apierrors.stats import flush
from apierrors.stats.counter import counter
from apierrors.stats.store import now_hour

from . import urls as stats_urls
from .conftest import RedisServer, free_port, fresh_counter, use_redis_cache, write_cells

pytestmark = pytest.mark.urls("tests.stats.urls")

UNKNOWN_ID = "a47c7b0ebbb442cdbc4adf259d148ea1"


def breakdown(key: str, hours: int = 2) -> dict[tuple[int, str, str], int]:
    """(status, format, language) → responses for ``key`` over the last ``hours`` hours."""
    out: dict[tuple[int, str, str], int] = {}
    for _hour, status, fmt, language, n in counter.store().series(
        key, "hour", now_hour() - hours + 1, now_hour()
    ):
        out[status, fmt, language] = out.get((status, fmt, language), 0) + n
    return out


def total(key: str) -> int:
    return sum(breakdown(key).values())


def test_responses_are_counted_by_entry_status_format_language_and_caller(stats_store, demo):
    north = APIClient()
    north.credentials(HTTP_AUTHORIZATION=f"Bearer {demo['north']}")
    url = f"/api/v1/patients/{UNKNOWN_ID}/"
    for _ in range(3):
        assert north.get(url).status_code == 404
    for _ in range(2):
        assert (
            north.get(
                url, HTTP_ACCEPT="application/problem+json", HTTP_ACCEPT_LANGUAGE="pl"
            ).status_code
            == 404
        )
    assert APIClient().get("/api/v1/patients/").status_code == 401
    # German is not one of the site's languages: LocaleMiddleware answers in English.
    assert APIClient().get("/api/v1/patients/", HTTP_ACCEPT_LANGUAGE="de").status_code == 401

    assert counter.pending() == 7
    assert flush() == 7
    assert counter.pending() == 0
    assert breakdown("unknown_resource") == {(404, "fhir", "en"): 3, (404, "problem", "pl"): 2}
    assert breakdown("authentication_failed") == {(401, "fhir", "en"): 2}
    today = now_hour() // 24
    store = counter.store()
    assert store.top_callers("unknown_resource", today - 6, today, 10) == [("north", 5)]
    assert store.top_callers("authentication_failed", today - 6, today, 10) == [("anonymous", 2)]
    assert flush() == 0  # nothing counted twice


def test_a_rolled_back_request_is_still_counted(stats_store):
    response = Client().get("/api/stats-test/write-then-fail/rolled-back/")

    assert response.status_code == 422
    assert not Group.objects.filter(name="rolled-back").exists()  # the request's writes: gone
    assert flush() == 1
    assert total("appointment_unavailable") == 1  # the response: counted


def test_no_count_rides_in_the_request_transaction(stats_store):
    """A flush that happens while a request's transaction is open (the flusher thread runs
    beside requests) commits on its own connection: the request's rollback can't undo it."""
    assert Client().get("/api/stats-test/write-then-fail/first/").status_code == 422
    stats_urls.flushed.clear()
    with CaptureQueriesContext(connections["default"]) as request_queries:
        response = Client().get("/api/stats-test/flush-then-fail/second/")

    assert response.status_code == 409
    assert stats_urls.flushed == [1]  # the first response, written during the second request
    assert not Group.objects.filter(name__in=["first", "second"]).exists()
    assert total("appointment_unavailable") == 1
    assert not any("errorstat" in q["sql"].lower() for q in request_queries.captured_queries)
    assert flush() == 1
    assert total("conflict") == 1


def test_recording_makes_no_query_and_starts_no_thread_under_a_test_runner(stats_store):
    client = Client()
    client.get("/api/no-such-thing/")  # warm: the dictionary is loaded once per process
    with CaptureQueriesContext(connections["default"]) as queries:
        for _ in range(5):
            assert client.get("/api/no-such-thing/").status_code == 404
    assert queries.captured_queries == []
    assert counter.pending() == 6
    # No flusher thread in a test run: a host's suite gets no connection or thread from us.
    assert not [t for t in threading.enumerate() if t.name == "apierrors-stats-flusher"]


def test_the_flusher_thread_writes_counts_by_itself(stats_store, settings):
    settings.APIERRORS = {**settings.APIERRORS, "STATS_FLUSH_SECONDS": 0.1}
    counter.auto_flush = True  # as in a server process (no test runner)
    try:
        for _ in range(4):
            assert Client().get("/api/no-such-thing/").status_code == 404
        deadline = time.monotonic() + 15
        while total("not_found") < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert total("not_found") == 4
        assert counter.pending() == 0
    finally:
        counter.stop()


def test_exact_under_concurrent_threads(stats_store):
    def hammer() -> None:
        for _ in range(2_000):
            counter.record("not_found", 404, "fhir", "en")

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    # Flushes while the threads count: nothing lost or counted twice between them.
    flushed = 0
    while any(t.is_alive() for t in threads):
        flushed += flush()
    for t in threads:
        t.join()
    flushed += flush()
    assert flushed == 16_000
    assert total("not_found") == 16_000


# Python 3.12+ warns on any fork of a process with threads (the test runner's); forking is
# what gunicorn does and what this test checks: the child only inspects its counter and exits.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_starts_empty_and_the_parent_keeps_its_counts(stats_store):
    for _ in range(3):
        counter.record("not_found", 404, "fhir", "en")
    pid = os.fork()
    if pid == 0:  # the child: the parent's counts are the parent's to write
        ok = counter.pending() == 0 and counter._thread is None
        counter.record("conflict", 409, "fhir", "en")
        ok = ok and counter.pending() == 1
        os._exit(0 if ok else 1)
    _pid, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert counter.pending() == 3
    assert flush() == 3


def test_unlisted_languages_are_counted_as_other(stats_store):
    counter.record("not_found", 404, "fhir", "pt-br")
    counter.record("not_found", 404, "fhir", "pl-pl")  # the listed base language
    flush()
    assert breakdown("not_found") == {(404, "fhir", "other"): 1, (404, "fhir", "pl"): 1}


def test_statistics_off_count_nothing(stats_store, settings):
    settings.APIERRORS = {**settings.APIERRORS, "STATS": False}
    assert Client().get("/api/no-such-thing/").status_code == 404
    assert counter.pending() == 0
    assert flush() == 0


def test_callers_off_keep_no_caller(stats_store, settings, demo):
    settings.APIERRORS = {**settings.APIERRORS, "STATS_CALLERS": False}
    north = APIClient()
    north.credentials(HTTP_AUTHORIZATION=f"Bearer {demo['north']}")
    assert north.get(f"/api/v1/patients/{UNKNOWN_ID}/").status_code == 404
    assert flush() == 1
    today = now_hour() // 24
    assert counter.store().top_callers("unknown_resource", today - 6, today, 10) == []


def partner_of(user) -> str:
    return f"partner:{user.get_username().upper()}"


def test_callers_can_be_labelled_by_a_project_function(stats_store, settings, demo):
    settings.APIERRORS = {
        **settings.APIERRORS,
        "STATS_CALLERS": "tests.stats.test_recording.partner_of",
    }
    north = APIClient()
    north.credentials(HTTP_AUTHORIZATION=f"Bearer {demo['north']}")
    assert north.get(f"/api/v1/patients/{UNKNOWN_ID}/").status_code == 404
    flush()
    today = now_hour() // 24
    assert counter.store().top_callers("unknown_resource", today - 6, today, 10) == [
        ("partner:NORTH", 1)
    ]


def test_old_counts_are_pruned(stats_store, settings):
    settings.APIERRORS = {**settings.APIERRORS, "STATS_RETENTION_DAYS": 3}
    old, recent = now_hour() - 5 * 24, now_hour() - 5
    write_cells(
        {("not_found", old, 404, "fhir", "en"): 7, ("not_found", recent, 404, "fhir", "en"): 2},
        {("not_found", old // 24): {"north": 7}},
    )
    store = counter.store()
    if stats_store == "database":
        from apierrors.models import ErrorStat, ErrorStatCaller

        store._next_prune = 0.0  # prune on this flush (at most hourly otherwise)
        counter.record("conflict", 409, "fhir", "en")
        assert flush() == 1
        assert sorted(ErrorStat.objects.values_list("key", "hour")) == [
            ("conflict", now_hour()),
            ("not_found", recent),
        ]
        assert not ErrorStatCaller.objects.filter(day=old // 24).exists()
    else:
        client = store.client()
        ttl = client.ttl(store.k(f"t:{recent}"))
        assert 0 < ttl <= 3 * 86400 + 3600 - 5 * 3600
        # Expired already: Redis never returns it.
        assert client.exists(store.k(f"t:{old}")) == 0
    assert store.totals(now_hour() - 24 * 90, now_hour()).get(("not_found", 404)) == 2


def test_redis_down_counts_wait_in_memory_and_arrive_when_it_is_back(
    settings, tmp_path, transactional_db, caplog
):
    redis = RedisServer(tmp_path)
    redis.start()
    try:
        use_redis_cache(settings, redis.url)
        fresh_counter()
        client = Client()
        for _ in range(3):
            assert client.get("/api/no-such-thing/").status_code == 404
        redis.stop()
        # Responses go on, in full, while the store is down: they never touch it.
        for _ in range(2):
            assert client.get("/api/no-such-thing/").status_code == 404
        with caplog.at_level(logging.WARNING, logger="apierrors.stats"):
            assert flush() == 0
            assert flush() == 0  # warned once per outage
        assert counter.pending() == 5
        assert [r.message for r in caplog.records].count(
            next(r.message for r in caplog.records if "not written" in r.message)
        ) == 1
        client.get("/api/no-such-thing/")
        redis.start()
        assert flush() == 6
        assert total("not_found") == 6
        assert counter.pending() == 0
    finally:
        redis.stop()
        fresh_counter()


def test_memory_is_bounded_while_the_store_is_down(settings, transactional_db, monkeypatch):
    use_redis_cache(settings, f"redis://127.0.0.1:{free_port()}/0")  # nobody listens there
    fresh_counter()
    monkeypatch.setattr(counter_module, "MAX_CELLS", 10)
    try:
        for i in range(25):
            counter.record(f"key_{i}", 400, "fhir", "en")
        assert flush() == 0
        for i in range(25, 30):
            counter.record(f"key_{i}", 400, "fhir", "en")
        assert flush() == 0
        assert len(counter._counts) + len(counter._waiting[0]) <= 10
        assert counter.pending() == 10
        assert counter.dropped == 20
    finally:
        fresh_counter()


def test_prometheus_counter_follows_the_flushes(stats_store):
    prometheus_client = pytest.importorskip("prometheus_client")
    labels = {"key": "not_found", "status": "404", "format": "fhir"}
    before = (
        prometheus_client.REGISTRY.get_sample_value("apierrors_error_responses_total", labels) or 0
    )
    for _ in range(3):
        Client().get("/api/no-such-thing/")
    flush()
    after = prometheus_client.REGISTRY.get_sample_value("apierrors_error_responses_total", labels)
    assert after - before == 3


def test_the_benchmark_can_time_the_same_call_with_statistics_on_and_off(stats_store):
    from testproject.clinic.management.commands.bench_errors import stats_on_and_off

    calls = stats_on_and_off(lambda: Client().get("/api/no-such-thing/").status_code)
    try:
        assert calls["off"]() == 404
        assert counter.pending() == 0
        assert calls["on"]() == 404
        assert counter.pending() == 1
    finally:
        counter.config = None


def test_only_the_top_callers_are_kept(stats_store, monkeypatch):
    from types import SimpleNamespace

    monkeypatch.setattr(counter_module, "MAX_CALLERS", 3)

    def as_user(name: str) -> SimpleNamespace:
        user = SimpleNamespace(is_authenticated=True, get_username=lambda: name)
        return SimpleNamespace(_user=user)

    for name, times in (("big", 5), ("mid", 3), ("small", 1), ("tiny", 1)):
        for _ in range(times):
            counter.record("not_found", 404, "fhir", "en", as_user(name))
    assert flush() == 10
    today = now_hour() // 24
    assert counter.store().top_callers("not_found", today, today, 10) == [
        ("big", 5),
        ("mid", 3),
        ("(others)", 2),
    ]
