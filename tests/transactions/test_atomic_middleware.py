"""AtomicRequestsMiddleware on a real database: every case asserts what is stored afterwards.

These are transactional tests (``transaction=True``): a TestCase would turn the middleware's
block into a savepoint and hide commit behaviour. The same file runs on SQLite, PostgreSQL
and MariaDB (``APIERRORS_DB``). Flushing the databases after a transactional test costs
about a second on PostgreSQL, so each test walks through a table of cases and cleans up
between them itself (``reset``).
"""

import json
import logging
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User
from django.contrib.sessions.models import Session
from django.db import connections, transaction
from django.http import HttpResponse
from django.test import AsyncClient, Client, RequestFactory, override_settings

from apierrors.transactions.middleware import DURABLE_MESSAGE, AtomicRequestsMiddleware
from tests.transactions.atomic_app import views

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.urls("tests.transactions.atomic_app.urls"),
]

ALIASES = ("default", "other")
VENDOR = connections["default"].vendor


def names(alias: str = "default") -> set[str]:
    return set(Group.objects.using(alias).values_list("name", flat=True))


def reset() -> None:
    """Forget what the previous case committed (cheaper than a flush)."""
    for alias in ALIASES:
        Group.permissions.through.objects.using(alias).all().delete()
        Group.objects.using(alias).all().delete()
    Session.objects.all().delete()
    views.CALLS.clear()


def post(client: Client, url: str, spec: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(spec), content_type="application/json")


def apost(url: str, spec: dict[str, Any]) -> Any:
    """A request through Django's ASGI handler (the middleware in async mode)."""
    client = AsyncClient(raise_request_exception=False)
    return async_to_sync(client.post)(url, data=json.dumps(spec), content_type="application/json")


def write(*names_: str, alias: str = "default") -> list[list[str]]:
    return [["create", alias, name] for name in names_]


@pytest.fixture
def client() -> Client:
    return Client(raise_request_exception=False)


@pytest.fixture(autouse=True)
def calls():
    views.CALLS.clear()
    yield views.CALLS
    views.CALLS.clear()


# -- Which responses commit -------------------------------------------------------------------


def test_api_views_commit_only_2xx(client):
    cases = [  # outcome, status the view returns, status expected, committed
        ("ok", 201, 201, True),
        ("ok", 200, 200, True),
        ("ok", 204, 204, True),
        ("ok", 302, 302, False),  # an API redirect is not a success
        ("fail", 400, 400, False),
        ("fail", 422, 422, False),
        ("fail", 500, 500, False),  # the view returns a 500 itself
        ("raise_client", None, 400, False),  # raised; answered by the exception handler
        ("raise", None, 500, False),  # unexpected exception: the handler's 500
        ("render_fail", None, 500, False),  # JSONRenderer fails after the view returned
    ]
    # An @api_view function is a DRF view too.
    paths_and_cases = [("/api/", *case) for case in cases] + [
        ("/api/function/", *case) for case in cases if case[1] in (201, 302, 422)
    ]
    for path, outcome, status, expected_status, committed in paths_and_cases:
        reset()
        spec = {"ops": write("a"), "outcome": outcome, "session": "s"}
        if status is not None:
            spec["status"] = status

        response = post(client, path, spec)

        case = (path, outcome, status)
        assert response.status_code == expected_status, case
        assert names() == ({"a"} if committed else set()), case
        assert Session.objects.count() == (1 if committed else 0), case
        if outcome == "raise":
            assert response["Content-Type"].startswith("application/fhir+json")


def test_other_views_roll_back_4xx_5xx_and_exceptions(client):
    cases = [
        ("ok", 200, 200, True),
        ("ok", 201, 201, True),
        ("redirect", None, 302, True),  # a redirect after a successful POST commits
        ("fail", 404, 404, False),
        ("fail", 422, 422, False),
        ("fail", 503, 503, False),
        ("raise_client", None, 403, False),
        ("raise", None, 500, False),
        ("render_fail", None, 500, False),  # a TemplateResponse failing in render()
    ]
    for outcome, status, expected_status, committed in cases:
        reset()
        spec = {"ops": write("a"), "outcome": outcome, "session": "s"}
        if status is not None:
            spec["status"] = status

        response = post(client, "/plain/", spec)

        case = (outcome, status)
        assert response.status_code == expected_status, case
        assert names() == ({"a"} if committed else set()), case
        # SessionMiddleware does not save on a 5xx; below that it saves, inside our block.
        assert Session.objects.count() == (1 if committed else 0), case


def test_unknown_url_is_an_error_response():
    client = Client(raise_request_exception=False)
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert Session.objects.count() == 0


def test_failed_request_keeps_the_previous_session_data(client):
    assert post(client, "/plain/", {"session": "v1"}).status_code == 200
    assert post(client, "/plain/", {"session": "v2", "outcome": "fail"}).status_code == 422
    assert post(client, "/api/", {"session": "v3", "outcome": "fail"}).status_code == 422

    (session,) = Session.objects.all()
    assert session.get_decoded()["value"] == "v1"


def test_admin_redirects_after_save_and_delete_commit(client):
    user = User.objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(user)

    response = client.post("/admin/auth/group/add/", {"name": "editors"})
    assert response.status_code == 302
    assert names() == {"editors"}
    group = Group.objects.get()

    response = client.post(f"/admin/auth/group/{group.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert names() == set()
    assert LogEntry.objects.count() == 2  # the admin's history, written in the same request

    # An invalid form re-renders with 200 and writes nothing.
    response = client.post("/admin/auth/group/add/", {"name": ""})
    assert response.status_code == 200
    assert names() == set()


# -- Several databases ---------------------------------------------------------------------------


def test_second_alias_commits_and_rolls_back_with_the_first(client):
    for path, outcome, committed in [
        ("/api/", "ok", True),
        ("/plain/", "ok", True),
        ("/api/", "fail", False),
        ("/plain/", "fail", False),
        ("/api/", "raise", False),
        ("/plain/", "raise", False),
        ("/api/", "render_fail", False),
    ]:
        reset()
        spec = {"ops": write("a") + write("b", alias="other"), "outcome": outcome}

        response = post(client, path, spec)

        case = (path, outcome)
        assert (response.status_code < 300) is committed, case
        assert names("default") == ({"a"} if committed else set()), case
        assert names("other") == ({"b"} if committed else set()), case


def test_atomic_databases_setting_narrows_the_aliases(client):
    narrowed = {**settings.APIERRORS, "ATOMIC_DATABASES": ["default"]}
    with override_settings(APIERRORS=narrowed):
        response = post(
            client, "/api/", {"ops": write("a") + write("b", alias="other"), "outcome": "fail"}
        )

    assert response.status_code == 422
    assert names("default") == set()
    assert names("other") == {"b"}  # "other" is not wrapped: autocommit, as configured


def test_deferred_constraint_failure_rolls_back_every_alias(client, calls):
    # The dangling row is checked at commit on PostgreSQL and SQLite (InnoDB rejects it at
    # once). "default" commits first; in the first case only the pre-commit check on
    # "other" keeps "a" from surviving the failed request.
    for ops in (
        [*write("a"), ["dangling", "other"]],
        [*write("b", alias="other"), ["dangling", "default"]],
        [*write("a"), ["dangling", "default"]],
    ):
        reset()
        spec = {"ops": ops, "on_commit": ["default", "other"], "tag": "t"}

        response = post(client, "/api/", spec)

        assert response.status_code == 409, ops  # IntegrityError in the dictionary
        assert names("default") == set(), ops
        assert names("other") == set(), ops
        assert Group.permissions.through.objects.using("default").count() == 0, ops
        assert Group.permissions.through.objects.using("other").count() == 0, ops
        assert calls == [], ops


# -- on_commit ---------------------------------------------------------------------------------


def test_on_commit_runs_only_after_commit(client, calls):
    spec = {
        "ops": write("a") + write("b", alias="other"),
        "on_commit": ["default", "other"],
        "tag": "t1",
    }
    assert post(client, "/api/", spec).status_code == 201
    assert calls == [("default", "t1"), ("other", "t1")]

    for path, outcome in [
        ("/api/", "fail"),
        ("/api/", "raise"),
        ("/api/", "render_fail"),
        ("/plain/", "fail"),
        ("/plain/", "raise"),
    ]:
        reset()
        spec = {
            "ops": write("a") + write("b", alias="other"),
            "on_commit": ["default", "other"],
            "tag": "t2",
            "outcome": outcome,
        }

        response = post(client, path, spec)

        assert response.status_code >= 400, (path, outcome)
        assert calls == [], (path, outcome)
        assert names() == set(), (path, outcome)


def test_failing_on_commit_callback_keeps_the_committed_success(client, calls, caplog):
    spec = {"ops": write("a"), "on_commit": ["default"], "on_commit_raises": "default", "tag": "t1"}

    with caplog.at_level(logging.ERROR, logger="apierrors.middleware"):
        response = post(client, "/api/", spec)

    assert response.status_code == 201  # the data is committed: an error would be a lie
    assert names() == {"a"}
    assert calls == [("default", "t1")]
    assert "on_commit callback failed" in caplog.text


# -- A success whose transaction cannot commit -------------------------------------------------


def test_swallowed_database_error_turns_a_success_into_500(client, calls):
    cases = [  # path, spec, the error format's content type
        ("/api/", {"ops": write("a"), "swallow": "default"}, "application/fhir+json"),
        ("/api/problem/", {"ops": write("a"), "swallow": "default"}, "application/problem+json"),
        (
            "/api/",
            {"ops": write("a") + write("b", alias="other"), "swallow": "other"},
            "application/fhir+json",
        ),
        ("/plain/", {"ops": write("a"), "swallow": "default", "outcome": "redirect"}, None),
        # SessionMiddleware's save hits the broken transaction and raises: Django's 500.
        ("/api/", {"ops": write("a"), "swallow": "default", "session": "s"}, None),
    ]
    for path, spec, content_type in cases:
        reset()
        spec.update(on_commit=["default"], tag="t")

        response = post(client, path, spec)

        assert response.status_code == 500, spec
        if content_type:
            assert response["Content-Type"].startswith(content_type), spec
        assert b"created" not in response.content
        assert names("default") == set(), spec
        assert names("other") == set(), spec
        assert Session.objects.count() == 0, spec
        assert calls == [], spec


def test_swallowed_raw_sql_error(client):
    # PostgreSQL aborts the transaction on any failed statement, so the write cannot
    # commit and the success must become a 500. SQLite and MariaDB keep the transaction
    # usable after a failed statement, so the write commits and the 201 is true.
    response = post(client, "/api/", {"ops": [*write("a"), ["bad_sql", "default"]]})

    if VENDOR == "postgresql":
        assert response.status_code == 500
        assert names() == set()
    else:
        assert response.status_code == 201
        assert names() == {"a"}


def test_deliberate_nested_rollback_keeps_the_success():
    # A view that discards some writes in a nested block (a dry run) is not an error.
    def view(request):
        with transaction.atomic():
            Group.objects.create(name="dry-run")
            transaction.set_rollback(True)
        Group.objects.create(name="real")
        return HttpResponse(status=200)

    response = AtomicRequestsMiddleware(view)(RequestFactory().post("/x/"))

    assert response.status_code == 200
    assert names() == {"real"}


def test_unreachable_database_answers_503_when_first_used(client):
    # The transaction begins on the alias's first use, so the outage shows there: the
    # view's query raises OperationalError and the handler answers 503 in its format.
    from tests.runtime.test_runtime_resilience import database_unreachable

    with database_unreachable():
        response = post(client, "/api/", {"ops": write("a")})

    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/fhir+json")
    assert response["X-Error-Key"] == "service_unavailable"
    assert names() == set()


# -- Opting out ---------------------------------------------------------------------------------


def test_opted_out_views_keep_their_writes(client):
    cases = [  # method, path, kept
        ("post", "/plain/non-atomic/", True),  # @non_atomic on a function
        ("post", "/api/non-atomic/", True),  # atomic_requests = False on the class
        ("post", "/api/method-non-atomic/", True),  # @non_atomic on the handler method
        ("put", "/api/method-non-atomic/", False),  # ...and only that method
        ("post", "/api/groups/", True),  # @non_atomic on a ViewSet action
        ("put", "/api/groups/x/", False),
    ]
    for method, path, kept in cases:
        reset()
        body = json.dumps({"ops": write("a"), "outcome": "fail"})

        response = getattr(client, method)(path, data=body, content_type="application/json")

        assert response.status_code == 422, (method, path)
        assert names() == ({"a"} if kept else set()), (method, path)


def test_non_atomic_requests_for_one_alias(client):
    spec = {"ops": write("a") + write("b", alias="other"), "outcome": "fail"}

    response = post(client, "/plain/non-atomic-other/", spec)

    assert response.status_code == 422
    assert names("default") == set()
    assert names("other") == {"b"}


def test_opt_out_is_honoured_on_every_request(client):
    for _ in range(2):
        reset()
        response = post(
            client,
            "/plain/non-atomic-other/",
            {"ops": write("a") + write("b", alias="other"), "outcome": "fail"},
        )

        assert response.status_code == 422
        assert names("default") == set()
        assert names("other") == {"b"}


def test_durable_block_needs_the_opt_out():
    with pytest.raises(RuntimeError) as excinfo:
        Client(raise_request_exception=True).post("/plain/durable/")
    assert str(excinfo.value) == DURABLE_MESSAGE
    assert "non_atomic" in DURABLE_MESSAGE
    assert names() == set()

    response = Client().post("/plain/durable-non-atomic/")
    assert response.status_code == 422
    assert names() == {"durable"}  # committed by the durable block itself


# -- Async views and ASGI -----------------------------------------------------------------------


def test_async_view_under_wsgi(client):
    for outcome, expected_status, committed in [
        ("ok", 200, True),
        ("fail", 422, False),
        ("raise", 500, False),
    ]:
        reset()
        response = post(
            client, "/plain/async/", {"ops": write("a"), "outcome": outcome, "session": "v"}
        )

        assert response.status_code == expected_status, outcome
        assert names() == ({"a"} if committed else set()), outcome
        assert Session.objects.count() == (1 if committed else 0), outcome


def test_views_under_asgi(calls):
    for path in ("/plain/async/", "/plain/", "/api/"):
        for outcome, committed in [("ok", True), ("fail", False), ("raise", False)]:
            reset()
            spec = {
                "ops": write("a") + write("b", alias="other"),
                "outcome": outcome,
                "session": "v",
                "on_commit": ["default"],
                "tag": "t",
            }

            response = apost(path, spec)

            case = (path, outcome, response.status_code)
            assert (200 <= response.status_code < 300) is committed, case
            assert names("default") == ({"a"} if committed else set()), case
            assert names("other") == ({"b"} if committed else set()), case
            assert Session.objects.count() == (1 if committed else 0), case
            assert calls == ([("default", "t")] if committed else []), case


def test_swallowed_error_and_opt_out_under_asgi():
    response = apost("/api/", {"ops": write("a"), "swallow": "default"})
    assert response.status_code == 500
    assert names() == set()

    response = apost("/api/non-atomic/", {"ops": write("a"), "outcome": "fail"})
    assert response.status_code == 422
    assert names() == {"a"}


# -- Streaming responses ------------------------------------------------------------------------


def test_streaming_responses(client):
    response = post(client, "/plain/stream/", {"ops": write("a"), "status": 200})
    assert response.status_code == 200
    assert names() == {"a"}  # committed before the first byte of the body
    b"".join(response.streaming_content)
    # The body's own writes run after the middleware has finished, in autocommit.
    assert names() == {"a", "written-while-streaming"}

    reset()
    response = post(client, "/plain/stream/", {"ops": write("a"), "status": 422})
    assert response.status_code == 422
    b"".join(response.streaming_content)
    # The view's write is rolled back; the body's is not (a documented limit).
    assert names() == {"written-while-streaming"}
