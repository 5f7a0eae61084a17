"""Error responses when the database is the problem: the request's transaction aborted
(PostgreSQL), marked for rollback, or the server unreachable (a 503), and the cache down too.

The status and a valid body come first; the text is the freshest the process can get: the
database's (read on a second connection when the request's own transaction cannot query),
else the last known copy, else the code's declaration. One warning per outage."""

import json
import logging
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import Group
from django.db import connections
from django.test import Client

from apierrors.dictionary.catalog import STAMP_KEY, catalog
from apierrors.models import ErrorCode

from . import runtime_urls


@pytest.fixture
def client():
    """These tests cause 5xx on purpose and read the response. Django's default test client
    would re-raise the exception behind a 5xx (apierrors sends got_request_exception, as
    Django does; see tests/handling/test_bugs_stay_visible.py)."""
    return Client(raise_request_exception=False)


pytestmark = pytest.mark.urls("tests.runtime.runtime_urls")

FORMATS = ["fhir", "docplanner", "shipstream", "problem"]
BOOKED = "This appointment time is no longer available."
UNAVAILABLE = "The service is temporarily unavailable. Try again later."


def text_of(fmt: str, response) -> str | int:
    body = json.loads(response.content)
    return {
        "fhir": lambda: body["issue"][0]["details"]["text"],
        "docplanner": lambda: body["error_code"],
        "shipstream": lambda: body["errors"][0]["message"],
        "problem": lambda: body["detail"],
    }[fmt]()


def edit(key: str, message: str) -> None:
    """An edit committed by "another process": saved, and its stamp published on commit."""
    row = ErrorCode.objects.get(key=key)
    row.message = message
    row.save()


def catalog_warnings(caplog, fragment: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "apierrors.catalog"
        and r.levelno == logging.WARNING
        and fragment in r.getMessage()
    ]


def without_middleware(settings) -> None:
    # Requests that fail for their own reason, not because no transaction can be opened.
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "AtomicRequests" not in m]


# -- the request's transaction cannot query ------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_aborted_postgresql_transaction(client):
    if connections["default"].vendor != "postgresql":
        pytest.skip("needs PostgreSQL's aborted transactions: run with APIERRORS_DB=postgres")
    Group.objects.create(name="taken")
    assert client.get("/rt/problem/business/").status_code == 422  # a warm process
    for fmt in FORMATS:
        runtime_urls.observed.clear()
        response = client.get(f"/rt-tx/{fmt}/integrity/")
        assert runtime_urls.observed["aborted"]  # the premise: queries fail now
        assert response.status_code == 422
        assert text_of(fmt, response) == (1 if fmt == "docplanner" else BOOKED)

    # An edit committed meanwhile: the aborted request still answers with the new text.
    edit("appointment_unavailable", "Taken a moment ago.")
    for fmt in ("fhir", "problem"):
        response = client.get(f"/rt-tx/{fmt}/integrity/")
        assert runtime_urls.observed["aborted"]
        assert (response.status_code, text_of(fmt, response)) == (422, "Taken a moment ago.")


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_transaction_marked_for_rollback_with_a_stale_copy(client, caplog):
    assert client.get("/rt/problem/business/").status_code == 422  # a warm process
    edit("appointment_unavailable", "Edited elsewhere.")
    with caplog.at_level(logging.WARNING, logger="apierrors.catalog"):
        for fmt in FORMATS:
            runtime_urls.observed.clear()
            response = client.get(f"/rt-tx/{fmt}/marked/")
            assert runtime_urls.observed["marked"]
            assert response.status_code == 422
            assert text_of(fmt, response) == (1 if fmt == "docplanner" else "Edited elsewhere.")
    assert catalog_warnings(caplog, "") == []


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_transaction_marked_for_rollback_in_a_cold_process(client):
    ErrorCode.objects.filter(key="appointment_unavailable").update(message="From the table.")
    response = client.get("/rt-tx/problem/marked/")
    assert runtime_urls.observed["marked"]
    assert (response.status_code, text_of("problem", response)) == (422, "From the table.")


@contextmanager
def connection_with(alias: str = "default", **settings_dict):
    """This thread's connection to ``alias``, replaced by one with other settings."""
    original = connections[alias]
    replacement = connections.create_connection(alias)
    replacement.settings_dict = {**original.settings_dict, **settings_dict}
    connections[alias] = replacement
    try:
        yield original
    finally:
        connections[alias] = original
        replacement.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_an_edit_committed_after_a_repeatable_read_snapshot_is_still_seen(client, settings):
    if connections["default"].vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with APIERRORS_DB=postgres")
    from django.db.backends.postgresql.psycopg_any import IsolationLevel

    without_middleware(settings)
    assert client.get("/rt/problem/business/").status_code == 422  # a warm process
    options = {
        **connections["default"].settings_dict["OPTIONS"],
        "isolation_level": IsolationLevel.REPEATABLE_READ,
    }
    with connection_with(OPTIONS=options) as elsewhere:

        def edit_elsewhere():  # another process commits between the view's read and failure
            connections["default"] = elsewhere
            try:
                edit("appointment_unavailable", "Committed after the snapshot.")
            finally:
                connections["default"] = repeatable

        repeatable = connections["default"]
        runtime_urls.hooks["after_read"] = edit_elsewhere
        try:
            response = client.get("/rt-tx/problem/snapshot/")
        finally:
            runtime_urls.hooks.clear()
    # The request's snapshot predates the edit; the new stamp must not be paired with it.
    assert text_of("problem", response) == "Committed after the snapshot."
    assert text_of("problem", client.get("/rt/problem/business/")) == (
        "Committed after the snapshot."
    )


# -- the database is unreachable -----------------------------------------------------------


@contextmanager
def database_unreachable(alias: str = "default"):
    """Point this thread's connection at nothing: a closed port (a directory that doesn't
    exist for SQLite). The real server stays up for everyone else."""
    original = connections[alias]
    broken = connections.create_connection(alias)
    if original.vendor == "sqlite":
        broken.settings_dict = {**original.settings_dict, "NAME": "/nonexistent/apierrors.db"}
    else:
        broken.settings_dict = {**original.settings_dict, "HOST": "127.0.0.1", "PORT": "1"}
    connections[alias] = broken
    try:
        yield
    finally:
        connections[alias] = original
        broken.close()


@pytest.fixture(params=["with_middleware", "without_middleware"])
def stack(request, settings):
    """With AtomicRequestsMiddleware the outage shows when it opens the transaction; without
    it, when the view queries. Either way the handler renders the 503.

    Yields the formats to check: these test views choose their format per request, which
    the middleware cannot know before routing, so with it, fhir and problem (by Accept). A
    view class's own ``error_format`` is used: see
    test_database_down_before_routing_answers_in_the_owning_view_format."""
    if request.param == "without_middleware":
        settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "AtomicRequests" not in m]
        return FORMATS
    return ["fhir", "problem"]


ACCEPT = {"fhir": "application/fhir+json", "problem": "application/problem+json"}


def get(client, fmt: str, kind: str):
    return client.get(f"/rt/{fmt}/{kind}/", HTTP_ACCEPT=ACCEPT.get(fmt, "application/json"))


@pytest.mark.django_db(databases="__all__")
def test_database_down_in_a_cold_process_answers_503_with_the_declared_text(client, stack, caplog):
    ErrorCode.objects.filter(key="service_unavailable").update(message="Not this one.")
    with caplog.at_level(logging.WARNING, logger="apierrors.catalog"), database_unreachable():
        for fmt in stack:
            response = get(client, fmt, "query")
            assert response.status_code == 503
            assert response["Retry-After"].isdigit()
            assert response["X-Error-Key"] == "service_unavailable"
            assert text_of(fmt, response) == (22 if fmt == "docplanner" else UNAVAILABLE)
    assert len(catalog_warnings(caplog, "not readable from the database")) == 1


@pytest.mark.django_db(databases="__all__")
def test_database_down_in_a_warm_process_uses_its_copy_quietly(
    client, stack, caplog, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        edit("service_unavailable", "Maintenance until 14:00.")
    assert client.get("/rt/problem/unavailable/").status_code == 503  # warm, and current
    with caplog.at_level(logging.WARNING, logger="apierrors.catalog"), database_unreachable():
        for fmt in stack:
            response = get(client, fmt, "query")
            assert response.status_code == 503
            assert text_of(fmt, response) == (
                22 if fmt == "docplanner" else "Maintenance until 14:00."
            )
    assert catalog_warnings(caplog, "") == []  # nothing needed the database


@pytest.mark.urls("testproject.urls")
@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        ("/api/v1/docplanner/bookings/", 503, {"error_code": 22}),
        # No view there, so nothing needs the database: the 404 it always was, in the format
        # of the nearest view.
        ("/api/v1/docplanner/bookings/1/no/such/route/", 404, {"error_code": 9}),
        (
            "/api/v1/shipstream/appointments/",
            503,
            {
                "errors": [
                    {
                        "type": "service_unavailable",
                        "error_code": 22,
                        "message": UNAVAILABLE,
                        "request_id": "req-42",
                    }
                ]
            },
        ),
    ],
)
def test_database_down_answers_in_the_owning_view_format(client, path, status, expected):
    # The request transaction begins on the first query (here the token's lookup), so
    # the outage shows there and the view's own format answers.
    with database_unreachable():
        response = client.post(
            path,
            {},
            content_type="application/json",
            HTTP_X_REQUEST_ID="req-42",
            HTTP_AUTHORIZATION="Bearer 0123456789abcdef",
        )
    assert response.status_code == status
    if status == 503:
        assert response["Retry-After"].isdigit()
    assert json.loads(response.content) == expected


@pytest.mark.django_db(databases="__all__")
def test_database_down_with_a_stale_copy_then_back(client, settings, caplog, monkeypatch, tmp_path):
    without_middleware(settings)
    stamps = runtime_urls.shared_stamp_cache(settings, tmp_path)
    monkeypatch.setattr(catalog, "db_retry_interval", 0)  # no back-off: try on every lookup
    assert client.get("/rt/problem/business/").status_code == 422  # warm
    ErrorCode.objects.filter(key="appointment_unavailable").update(message="Newer text.")
    stamps.set(STAMP_KEY, "published-by-another-process", timeout=None)
    with caplog.at_level(logging.WARNING, logger="apierrors.catalog"):
        with database_unreachable():
            for _ in range(3):
                response = client.get("/rt/problem/business/")
                assert (response.status_code, text_of("problem", response)) == (422, BOOKED)
        assert len(catalog_warnings(caplog, "using the last known copy")) == 1
        # Back up: the next error response reads the newer text.
        assert text_of("problem", client.get("/rt/problem/business/")) == "Newer text."


@pytest.mark.django_db(databases="__all__")
def test_database_and_cache_down_in_a_cold_process(client, settings, caplog):
    without_middleware(settings)
    settings.CACHES = {
        **settings.CACHES,
        "stamp": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        },
    }
    settings.APIERRORS = {**settings.APIERRORS, "CACHE_ALIAS": "stamp"}
    with caplog.at_level(logging.WARNING, logger="apierrors.catalog"), database_unreachable():
        for fmt in FORMATS:
            response = client.get(f"/rt/{fmt}/business/")
            assert response.status_code == 422
            assert text_of(fmt, response) == (1 if fmt == "docplanner" else BOOKED)
        response = client.get("/rt/problem/query/")
        assert (response.status_code, text_of("problem", response)) == (503, UNAVAILABLE)
    assert len(catalog_warnings(caplog, "not readable from the cache")) == 1
    assert len(catalog_warnings(caplog, "not readable from the database")) == 1
