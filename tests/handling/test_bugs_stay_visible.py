"""An exception that becomes a 5xx is reported as Django reports one: bugs stay visible.

apierrors answers a bug with a clean 500 in the API's format, but it must not hide it: it
sends Django's ``got_request_exception`` (which Sentry's and Rollbar's Django integrations
listen to, and through which Django's test client re-raises the exception in tests), and
with ``DEBUG_PROPAGATE_EXCEPTIONS`` an unhandled exception propagates exactly as with DRF's
own handler.
"""

import sys
import threading
from typing import Any

import pytest
from django.core.signals import got_request_exception
from django.db import connections
from django.http import HttpRequest
from django.test import Client

from apierrors.handling.handler import set_rollback

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.handling.raising.urls")]


@pytest.fixture
def tracker() -> Any:
    """A receiver standing in for an error tracker: what it saw, as Sentry's would."""
    seen: list[tuple[type | None, str, Any]] = []

    def receiver(sender: Any, request: Any = None, **kwargs: Any) -> None:
        exc_type, exc, _tb = sys.exc_info()
        seen.append((exc_type, str(exc), request))

    got_request_exception.connect(receiver)
    yield seen
    got_request_exception.disconnect(receiver)


def test_the_test_client_re_raises_a_bug_behind_a_500():
    with pytest.raises(RuntimeError, match="secret password=hunter2"):
        Client().get("/api/raise/bug/")


def test_the_response_is_still_a_clean_500_for_callers(tracker):
    response = Client(raise_request_exception=False).get("/api/raise/bug/")

    assert response.status_code == 500
    assert response["X-Error-Key"] == "internal_error"
    assert b"hunter2" not in response.content
    [(exc_type, text, request)] = tracker
    assert (exc_type, text) == (RuntimeError, "secret password=hunter2")
    # Django's own HttpRequest, as Django's handler sends it (not DRF's wrapper).
    assert type(request).__name__ == "WSGIRequest"
    assert isinstance(request, HttpRequest)
    assert request.path == "/api/raise/bug/"


@pytest.mark.parametrize(
    ("name", "exc_name"),
    [
        ("unavailable", "ServiceUnavailable"),  # a 5xx the view raised on purpose
        ("operational", "OperationalError"),  # the database went away: 503
        ("unknown-key", "APIError"),  # a key nobody declares: a bug in code, 500
    ],
)
def test_every_5xx_from_an_exception_is_reported(tracker, name, exc_name):
    response = Client(raise_request_exception=False).get(f"/api/raise/{name}/")

    assert response.status_code >= 500
    assert [exc_type.__name__ for exc_type, _text, _request in tracker] == [exc_name]


@pytest.mark.parametrize(
    "name",
    [
        "drf-validation",
        "drf-not-found",
        "django-404",
        "drf-permission",
        "api-error",
        "drf-throttled",
    ],
)
def test_client_errors_are_not_reported(tracker, name):
    response = Client().get(f"/api/raise/{name}/")  # would raise if anything were reported

    assert 400 <= response.status_code < 500
    assert tracker == []


def test_debug_propagate_exceptions_lets_the_bug_through(settings, tracker):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = True
    # Even a client that asks for responses gets the exception: nothing answered it.
    with pytest.raises(RuntimeError, match="hunter2"):
        Client(raise_request_exception=False).get("/api/raise/bug/")
    # Django itself sends the signal (once per middleware layer the exception crosses).
    assert tracker
    assert {exc_type for exc_type, _text, _request in tracker} == {RuntimeError}


def test_debug_propagate_exceptions_still_answers_api_errors(settings):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = True

    response = Client().get("/api/raise/drf-not-found/")

    assert (response.status_code, response["X-Error-Key"]) == (404, "not_found")


def test_plain_django_views_report_through_django_itself(tracker):
    response = Client(raise_request_exception=False).get("/api/plain-bug/")

    assert response.status_code == 500
    assert response["X-Error-Key"] == "internal_error"
    assert len(tracker) == 1  # Django's handler sent it; apierrors' handler500 did not again


def test_set_rollback_creates_no_connection_wrapper():
    # DRF's set_rollback() looks at initialized connections only; ours must too, or every
    # error response would create a wrapper for every alias in a fresh thread.
    settings_dict = connections.settings["other"]
    settings_dict["ATOMIC_REQUESTS"] = True
    created: list[list[str]] = []

    def in_a_new_thread() -> None:
        set_rollback()
        created.append([c.alias for c in connections.all(initialized_only=True)])

    try:
        thread = threading.Thread(target=in_a_new_thread)
        thread.start()
        thread.join()
    finally:
        settings_dict["ATOMIC_REQUESTS"] = False
    assert created == [[]]
