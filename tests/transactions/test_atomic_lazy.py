"""AtomicRequestsMiddleware opens a transaction only on the aliases a request uses.

An alias the request never touches gets no connection, no query and no transaction, so a
project with a replica or a rarely used database pays nothing for it, and a host project's
tests that restrict ``databases`` (or make no query at all) are not tripped by the
middleware. Every alias that *is* used keeps the whole guarantee, whatever its first use is:
an ORM query, the view's own ``atomic(using=...)`` block, a raw cursor, ``on_commit``,
``select_for_update()``.
"""

import json
import threading
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connections, transaction
from django.db.backends.signals import connection_created
from django.http import HttpResponse
from django.test import Client, RequestFactory, SimpleTestCase, TestCase
from django.test.utils import CaptureQueriesContext

from apierrors.dictionary.catalog import catalog
from apierrors.testing import assert_error_response
from apierrors.transactions.middleware import DURABLE_MESSAGE, AtomicRequestsMiddleware
from tests.transactions.atomic_app import views

ALIASES = ("default", "other")
VENDOR = connections["default"].vendor
SHADOWED = (
    "ensure_connection",
    "get_autocommit",
    "set_autocommit",
    "on_commit",
    "get_rollback",
    "set_rollback",
)

urls = pytest.mark.urls("tests.transactions.atomic_app.urls")


def names(alias: str = "default") -> set[str]:
    return set(Group.objects.using(alias).values_list("name", flat=True))


def post(client: Client, spec: dict[str, Any], path: str = "/api/") -> Any:
    return client.post(path, data=json.dumps(spec), content_type="application/json")


@pytest.fixture
def used() -> Any:
    """Per alias: the new connections opened and the statements sent (BEGIN, COMMIT and
    ROLLBACK included: Django logs them too), while the test runs. The dictionary is loaded
    first, as in a warm process: a cold one reads it once, on its first error response."""
    catalog.entries()
    opened: list[str] = []

    def record(sender: Any, connection: Any, **kwargs: Any) -> None:
        opened.append(connection.alias)

    captures = {alias: CaptureQueriesContext(connections[alias]) for alias in ALIASES}
    for capture in captures.values():
        capture.__enter__()  # connects
    for alias in ALIASES:
        connections[alias].close()  # a no-op for SQLite's in-memory test databases
    connection_created.connect(record)
    try:
        yield lambda: {
            alias: (opened.count(alias), len(captures[alias].captured_queries)) for alias in ALIASES
        }
    finally:
        for capture in captures.values():
            capture.__exit__(None, None, None)
        connection_created.disconnect(record)


def assert_left_untouched(alias: str) -> None:
    """Nothing of the request is left on the connection object."""
    connection = connections[alias]
    assert not set(SHADOWED) & set(connection.__dict__), alias
    assert connection.atomic_blocks == [], alias
    assert not connection.in_atomic_block, alias


@urls
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_request_connects_only_to_the_alias_it_uses(used):
    client = Client(raise_request_exception=False)

    response = post(client, {"ops": [["create", "default", "a"]], "outcome": "fail"})

    assert response.status_code == 422
    opened_default, statements_default = used()["default"]
    assert statements_default >= 2  # BEGIN (or SAVEPOINT) ... INSERT ... ROLLBACK
    assert used()["other"] == (0, 0)  # never connected to, not one statement
    if VENDOR != "sqlite":  # SQLite's in-memory test databases never close
        assert opened_default == 1
        assert connections["other"].connection is None
    assert names() == set()
    for alias in ALIASES:
        assert_left_untouched(alias)


@urls
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_request_that_uses_no_database_opens_nothing(used):
    response = Client().post("/api/", data="{broken", content_type="application/json")

    assert response.status_code == 400
    assert used() == {"default": (0, 0), "other": (0, 0)}
    for alias in ALIASES:
        if VENDOR != "sqlite":
            assert connections[alias].connection is None
        assert_left_untouched(alias)


@urls
@pytest.mark.django_db(transaction=True, databases="__all__")
@pytest.mark.parametrize("create", ["create", "create_atomic", "create_nosp", "create_raw"])
def test_every_first_use_is_inside_the_request_transaction(create):
    client = Client(raise_request_exception=False)
    for outcome, status, kept in [("fail", 422, False), ("raise", 500, False), ("ok", 201, True)]:
        Group.objects.using("other").all().delete()
        views.CALLS.clear()
        spec = {
            "ops": [[create, "other", "x"]],
            "on_commit": ["other"],
            "tag": outcome,
            "outcome": outcome,
        }

        response = post(client, spec)

        assert response.status_code == status, (create, outcome)
        assert names("other") == ({"x"} if kept else set()), (create, outcome)
        assert ([("other", outcome)] if kept else []) == views.CALLS, (create, outcome)
        assert_left_untouched("other")


@urls
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_on_commit_before_any_query_waits_for_the_commit():
    # Outside a transaction Django runs an on_commit callback at once; here it is the
    # alias's first use, so it must wait for the request's outcome like any other.
    client = Client(raise_request_exception=False)
    for outcome, status, ran in [("fail", 422, False), ("ok", 201, True)]:
        views.CALLS.clear()
        spec = {"on_commit_early": ["other"], "tag": "t", "outcome": outcome}

        response = post(client, spec)

        assert response.status_code == status
        assert ([("other", "early-t")] if ran else []) == views.CALLS


@urls
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_select_for_update_as_the_first_query_is_inside_a_transaction():
    # Django refuses select_for_update() in autocommit (PostgreSQL, MariaDB): the first
    # use must see the request's transaction already open.
    Group.objects.using("other").create(name="locked")
    client = Client(raise_request_exception=False)

    response = post(
        client,
        {"ops": [["lock", "other", "locked"], ["delete", "other", "locked"]], "outcome": "fail"},
    )

    assert response.status_code == 422
    assert names("other") == {"locked"}


@urls
@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_durable_block_as_the_first_use_still_needs_the_opt_out(used):
    with pytest.raises(RuntimeError) as excinfo:
        Client().post("/plain/durable/")
    assert str(excinfo.value) == DURABLE_MESSAGE
    assert names() == set()
    assert_left_untouched("default")


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_view_that_turns_autocommit_off_is_refused_as_inside_a_transaction():
    def view(request: Any) -> HttpResponse:
        transaction.set_autocommit(False, using="other")
        return HttpResponse("unreachable")

    with pytest.raises(transaction.TransactionManagementError):
        AtomicRequestsMiddleware(view)(RequestFactory().post("/x/"))
    assert_left_untouched("other")


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_rollback_flag_works_before_any_query():
    def view(request: Any) -> HttpResponse:
        transaction.set_rollback(True, using="other")  # a first use: no query yet
        return HttpResponse(status=200)

    response = AtomicRequestsMiddleware(view)(RequestFactory().post("/x/"))

    # A success whose transaction was marked for rollback is a 500, never a false success.
    assert response.status_code == 500
    assert_left_untouched("other")


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_failed_connection_is_retried_on_the_next_use():
    from tests.runtime.test_runtime_resilience import database_unreachable

    attempts = []

    def view(request: Any) -> HttpResponse:
        with database_unreachable("other"):
            try:
                Group.objects.using("other").count()
            except Exception as exc:
                attempts.append(type(exc).__name__)
        Group.objects.using("other").create(name="after-the-outage")
        return HttpResponse(status=422)

    response = AtomicRequestsMiddleware(view)(RequestFactory().post("/x/"))

    assert response.status_code == 422
    assert attempts == ["OperationalError"]
    assert names("other") == set()  # the second use began the transaction, and it rolled back
    assert_left_untouched("other")


@urls
@pytest.mark.django_db(transaction=True)  # "default" only: "other" is forbidden here
def test_a_connection_shared_by_threads_is_hooked_for_its_own_request_only():
    # Django's live server gives each of its threads the test's connection objects (for an
    # in-memory SQLite database), so one request's end (close_old_connections) runs on the
    # connection another request is waiting on: it must not begin that request's
    # transaction from its own thread, nor touch an alias the test did not ask for.
    shared = {alias: connections[alias] for alias in ALIASES}
    responses = []

    def serve() -> None:
        for alias, connection in shared.items():
            connections[alias] = connection
        responses.append(Client().get("/plain/wait/"))

    views.in_wait.clear()
    views.release_wait.clear()
    for connection in shared.values():
        connection.inc_thread_sharing()
    request_thread = threading.Thread(target=serve)
    request_thread.start()
    try:
        assert views.in_wait.wait(10)
        for connection in shared.values():
            connection.close_if_unusable_or_obsolete()  # what another request's end does
            assert not connection.in_atomic_block, connection.alias
    finally:
        views.release_wait.set()
        request_thread.join(10)
        for connection in shared.values():
            connection.dec_thread_sharing()
    assert responses[0].content == b"released"
    assert_left_untouched("default")
    assert_left_untouched("other")


# -- a host project's tests: restricted databases, no database at all ----------------------


@urls
class RestrictedDatabasesTestCase(TestCase):
    """A TestCase of a two-database project that declares only the alias it uses."""

    databases = {"default"}

    def test_a_request_writing_to_default_works(self) -> None:
        response = post(Client(), {"ops": [["create", "default", "a"]], "outcome": "ok"})

        assert response.status_code == 201
        assert names() == {"a"}

    def test_an_error_response_works(self) -> None:
        response = post(Client(), {"ops": [["create", "default", "a"]], "outcome": "raise_client"})

        assert_error_response(response, 400, key="invalid_request")
        assert names() == set()  # rolled back to the request's savepoint

    def test_a_read_only_request_adds_no_query(self) -> None:
        # Inside the test's transaction the request's savepoint is made only once it
        # writes: assertNumQueries around a read counts what it did without apierrors.
        without = [m for m in settings.MIDDLEWARE if "AtomicRequests" not in m]
        with (
            CaptureQueriesContext(connections["default"]) as plain,
            self.settings(MIDDLEWARE=without),
        ):
            Client().get("/plain/count/")
        with self.assertNumQueries(len(plain)):
            response = Client().get("/plain/count/")
        assert response.json() == {"groups": 0}

    def test_the_views_own_blocks_roll_back_with_the_request(self) -> None:
        spec = {
            "ops": [
                ["create_nosp", "default", "a"],
                ["create_atomic", "default", "b"],
                ["create_raw", "default", "c"],
            ],
            "outcome": "fail",
        }

        response = post(Client(), spec)

        assert response.status_code == 422
        assert names() == set()
        assert Group.objects.create(name="after")  # the test's transaction is still usable


@urls
class NoDatabaseTestCase(SimpleTestCase):
    """A SimpleTestCase: any query fails (DatabaseOperationForbidden); errors still answer."""

    def test_an_api_error_without_any_query(self) -> None:
        response = Client().post("/api/", data="{broken", content_type="application/json")

        assert_error_response(response, 400, key="parse_error")

    def test_a_validation_error_without_any_query(self) -> None:
        response = post(Client(), {"outcome": "raise_client"})

        exc = assert_error_response(response, 400, key="invalid_request")
        assert exc.details == [("name", "This name is not allowed.")]


@urls
def test_a_pytest_test_without_database_access_gets_error_responses():
    # No django_db mark: pytest-django blocks every database access.
    response = post(Client(), {"outcome": "raise_client"}, path="/api/problem/")

    assert response["Content-Type"] == "application/problem+json"
    assert_error_response(response, 400, key="invalid_request", error_code=2)


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_one_path_it_cannot_see_is_the_raw_dbapi_connection():
    # Documented limit (README, "Limits"): statements sent on the DB-API connection itself,
    # kept open from before the request, bypass Django's connection object entirely.
    connections["other"].ensure_connection()  # open before the request, as CONN_MAX_AGE does
    raw = connections["other"].connection

    def view(request: Any) -> HttpResponse:
        cursor = raw.cursor()
        cursor.execute("INSERT INTO auth_group (name) VALUES ('raw')")
        cursor.close()  # Django keeps the connection in autocommit outside a transaction
        return HttpResponse(status=422)

    response = AtomicRequestsMiddleware(view)(RequestFactory().post("/x/"))

    assert response.status_code == 422
    assert names("other") == {"raw"}  # kept: the documented limit
    # Through Django's connection object, the same statement is rolled back.
    Group.objects.using("other").all().delete()

    def covered(request: Any) -> HttpResponse:
        with connections["other"].cursor() as cursor:
            cursor.execute("INSERT INTO auth_group (name) VALUES ('raw')")
        return HttpResponse(status=422)

    AtomicRequestsMiddleware(covered)(RequestFactory().post("/x/"))
    assert names("other") == set()
