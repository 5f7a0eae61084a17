"""apierrors.testing, used as a host project's tests would: override an entry, assert a response.

Every request goes to the demo clinic API (testproject/) through Django's or DRF's test client,
or through requests/httpx against a live server.
"""

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
import requests
from django.test import SimpleTestCase, TestCase

from apierrors.dictionary.catalog import catalog, get_entry
from apierrors.models import ErrorCode
from apierrors.testing import assert_error_response, override_error
from testproject.clinic.demo_data import DEMO_PATIENT_ID, DEMO_TOKEN, OTHER_PRACTICE_PATIENT_ID
from testproject.clinic.demo_data import load_demo_data as load_demo

from .factories import AppointmentFactory, ErrorCodeFactory, SlotFactory

UNKNOWN_ID = "a47c7b0ebbb442cdbc4adf259d148ea1"
PROBLEM = "application/problem+json"
BOOKED = "This appointment time is no longer available."


@pytest.fixture(autouse=True)
def no_override_leaks():
    """Every override of a test is undone by the time it ends, whatever way it ended."""
    yield
    leaked = catalog._overrides
    for layers in leaked.values():  # undone here, so that one failure does not spread
        for layer in layers:
            catalog.remove_override(layer)
    assert leaked == {}


def book_taken_slot(client, path="/api/v1/appointments/", **extra):
    booked = AppointmentFactory(
        patient_id=DEMO_PATIENT_ID, slot=SlotFactory(practitioner__practice__name="North")
    )
    return client.post(
        path, {"slot": booked.slot_id, "patient": str(DEMO_PATIENT_ID)}, format="json", **extra
    )


# -- the context manager -----------------------------------------------------------------------


@pytest.mark.django_db
def test_context_manager_changes_message_status_code_and_title(client_north):
    with override_error(
        "appointment_unavailable", message="Slot gone.", status=409, error_code=9001, title="Gone"
    ) as entry:
        assert (entry.status, entry.error_code) == (409, 9001)
        response = book_taken_slot(client_north, HTTP_ACCEPT=PROBLEM)
    exc = assert_error_response(response, 409, key="appointment_unavailable", error_code=9001)
    assert (exc.message, exc.title) == ("Slot gone.", "Gone")
    assert response.json()["status"] == 409

    after = book_taken_slot(client_north, HTTP_ACCEPT=PROBLEM)
    exc = assert_error_response(after, 422, key="appointment_unavailable", error_code=1)
    assert (exc.message, exc.title) == (BOOKED, "Appointment unavailable")


@pytest.mark.django_db
def test_override_changes_only_what_it_names(client_north):
    with override_error("appointment_unavailable", status=409):
        response = book_taken_slot(client_north)
    exc = assert_error_response(response, 409, key="appointment_unavailable", error_code=1)
    assert exc.message == BOOKED
    assert response.json()["issue"][0]["code"] == "business-rule"  # fhir_code untouched


@pytest.mark.django_db
def test_message_replaces_every_language(client_north):
    polish = book_taken_slot(client_north, HTTP_ACCEPT_LANGUAGE="pl")
    assert assert_error_response(polish, 422).message != BOOKED  # the shipped translation
    with override_error("appointment_unavailable", message="Slot gone.", title="Gone"):
        for language in ("pl", "es", "en"):
            response = book_taken_slot(
                client_north, HTTP_ACCEPT_LANGUAGE=language, HTTP_ACCEPT=PROBLEM
            )
            exc = assert_error_response(response, 422)
            assert (exc.message, exc.title) == ("Slot gone.", "Gone"), language


@pytest.mark.django_db
def test_override_wins_over_the_database_and_survives_a_reload(
    client_north, django_capture_on_commit_callbacks
):
    def edit(**fields):
        row = ErrorCode.objects.get(key="appointment_unavailable")
        for name, value in fields.items():
            setattr(row, name, value)
        with django_capture_on_commit_callbacks(execute=True) as published:
            row.save()  # as the admin saves: a new stamp, so the catalog reloads
        assert len(published) == 1

    edit(message="Edited by support.")
    with override_error("appointment_unavailable", message="Overridden.", error_code=9001):
        exc = assert_error_response(
            book_taken_slot(client_north, HTTP_ACCEPT=PROBLEM), 422, error_code=9001
        )
        assert exc.message == "Overridden."
        edit(message="Edited again.", title="Edited title", status=409)
        exc = assert_error_response(
            book_taken_slot(client_north, HTTP_ACCEPT=PROBLEM), error_code=9001
        )
        # The fields it overrides stay overridden; the others follow the edit.
        assert (exc.message, exc.title, exc.status) == ("Overridden.", "Edited title", 409)
        catalog.reset()  # what a settings change (override_settings(APIERRORS=...)) does
        assert assert_error_response(book_taken_slot(client_north), 409).message == "Overridden."
    exc = assert_error_response(book_taken_slot(client_north), 409, error_code=1)
    assert exc.message == "Edited again."


@pytest.mark.django_db
def test_a_key_only_in_the_database_can_be_overridden():
    ErrorCodeFactory(key="clinic_closed", message="Closed on {day}.", status=503)
    with override_error("clinic_closed", message="Closed today ({day}).") as entry:
        assert entry.render_message({"day": "Sunday"}) == "Closed today (Sunday)."
        assert entry.status == 503
    assert get_entry("clinic_closed").render_message({"day": "Sunday"}) == "Closed on Sunday."


def test_a_typo_names_the_close_matches():
    with pytest.raises(
        LookupError,
        match=r"'appointment_unavailabel'.*"
        r"Did you mean 'appointment_unavailable'\?",
    ):
        override_error("appointment_unavailabel", status=409).enable()


def test_without_database_access_only_declared_keys_exist():
    with pytest.raises(LookupError, match="test without database access"):
        override_error("clinic_closed", status=503).enable()
    with override_error("throttled", message="Slow down.") as entry:  # declared in code
        assert entry.render_message() == "Slow down."


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({}, TypeError, "changes nothing"),
        ({"status": 200}, ValueError, "200 is not an error status"),
        ({"status": "409"}, TypeError, "status must be a int"),
        ({"error_code": True}, TypeError, "error_code must be a int"),
        ({"message": "No {0.__class__}"}, ValueError, "is not allowed"),
        ({"message": "Unclosed {brace"}, ValueError, "does not parse"),
    ],
)
def test_bad_overrides_are_refused_when_written(changes, error, match):
    with pytest.raises(error, match=match):
        override_error("appointment_unavailable", **changes)


def test_fhir_code_must_be_an_issue_type():
    with pytest.raises(ValueError, match="'kaput' is not a FHIR R4 IssueType"):
        override_error("appointment_unavailable", fhir_code="kaput").enable()


# -- the function decorator --------------------------------------------------------------------


@pytest.mark.django_db
@override_error("unknown_resource", message="No such {resource}: {id}")
def test_decorator_reparses_the_placeholders(client_north):
    response = client_north.get(f"/api/v1/patients/{UNKNOWN_ID}/")
    exc = assert_error_response(response, 404, key="unknown_resource", error_code=8)
    assert exc.message == f"No such Patient: {UNKNOWN_ID}"


@pytest.mark.django_db
@override_error("unknown_resource", message="No such {resource}.")
@override_error("authorization_failed", status=404, error_code=8008)
def test_stacked_decorators_override_several_entries(client_north):
    missing = client_north.get(f"/api/v1/patients/{UNKNOWN_ID}/")
    assert assert_error_response(missing, 404, key="unknown_resource").message == "No such Patient."
    foreign = client_north.get(f"/api/v1/patients/{OTHER_PRACTICE_PATIENT_ID}/")
    assert_error_response(foreign, 404, key="authorization_failed", error_code=8008)


def test_an_async_function_is_overridden_while_it_runs():
    @override_error("throttled", message="Async.")
    async def view_test():
        await asyncio.sleep(0)
        return get_entry("throttled").render_message()

    assert asyncio.run(view_test()) == "Async."
    assert get_entry("throttled").status == 429


def test_a_decorated_function_undoes_its_override_when_it_returns_or_raises():
    @override_error("throttled", message="Inside.")
    def returns():
        return get_entry("throttled").render_message()

    @override_error("throttled", message="Inside.")
    def raises():
        assert get_entry("throttled").render_message() == "Inside."
        raise KeyError("the test failed")

    assert returns() == "Inside."
    assert get_entry("throttled").render_message() == "Rate limit exceeded. Try again later."
    with pytest.raises(KeyError):
        raises()
    assert get_entry("throttled").render_message() == "Rate limit exceeded. Try again later."


@override_error("throttled", status=503)
class TestPlainClass:
    """A plain pytest class: each test method runs under the override."""

    def test_first(self):
        assert get_entry("throttled").status == 503

    def test_second(self):
        assert get_entry("throttled").status == 503


# -- nesting and exceptions --------------------------------------------------------------------


@pytest.mark.django_db
def test_nested_overrides_of_one_key_lay_on_top_and_restore_in_turn(client_north):
    def answer():
        exc = assert_error_response(book_taken_slot(client_north), key="appointment_unavailable")
        return exc.status, exc.message

    with override_error("appointment_unavailable", message="Outer."):
        assert answer() == (422, "Outer.")
        with override_error("appointment_unavailable", status=409):
            assert answer() == (409, "Outer.")
            with override_error("appointment_unavailable", message="Inner."):
                assert answer() == (409, "Inner.")
            assert answer() == (409, "Outer.")
        assert answer() == (422, "Outer.")
    assert answer() == (422, BOOKED)


def test_overrides_undone_out_of_order_keep_the_others():
    outer = override_error("throttled", message="Outer.")
    inner = override_error("throttled", status=503)
    outer.enable()
    inner.enable()
    outer.disable()  # e.g. a fixture's teardown after a block it did not open
    entry = get_entry("throttled")
    assert (entry.status, entry.render_message()) == (503, "Rate limit exceeded. Try again later.")
    inner.disable()
    assert get_entry("throttled").status == 429


def test_one_object_entered_twice_restores_each_level():
    overriding = override_error("throttled", status=503)
    with overriding, override_error("throttled", message="Middle."), overriding:
        assert get_entry("throttled").render_message() == "Middle."
    assert get_entry("throttled").status == 429


@pytest.mark.django_db
def test_an_exception_in_the_block_still_restores_the_entry(client_north):
    with (
        pytest.raises(ZeroDivisionError),
        override_error("unknown_resource", message="Gone.", status=410),
    ):
        response = client_north.get(f"/api/v1/patients/{UNKNOWN_ID}/")
        assert_error_response(response, 410)
        1 / 0  # noqa: B018 - the test body fails
    response = client_north.get(f"/api/v1/patients/{UNKNOWN_ID}/")
    exc = assert_error_response(response, 404, key="unknown_resource", error_code=8)
    assert exc.message == f"Unknown Patient resource '{UNKNOWN_ID}'"


# -- the pytest fixture ------------------------------------------------------------------------


@pytest.mark.django_db
def test_fixture_overrides_until_the_test_ends(override_error, client_north):
    entry = override_error("appointment_unavailable", status=409, message="Taken, sorry.")
    assert entry.status == 409
    override_error("unknown_resource", error_code=8080)
    exc = assert_error_response(book_taken_slot(client_north), 409, error_code=1)
    assert exc.message == "Taken, sorry."
    missing = client_north.get(f"/api/v1/patients/{UNKNOWN_ID}/")
    assert_error_response(missing, 404, key="unknown_resource", error_code=8080)


def test_the_fixture_is_registered_on_install_and_undone_at_teardown(tmp_path):
    """A host's run: no conftest naming the plugin; its own test file only."""
    (tmp_path / "test_host.py").write_text(
        textwrap.dedent("""
        from apierrors.dictionary.catalog import get_entry

        def test_overrides(override_error):
            override_error("throttled", status=503)
            assert get_entry("throttled").status == 503

        def test_next_test_sees_the_declared_entry():
            assert get_entry("throttled").status == 429
    """)
    )
    # Unrelated heavy plugins off, to start faster; apierrors' is still found by entry point.
    # The wheel carries apierrors alone: the settings module comes from the repo, as a host's.
    root = Path(__file__).resolve().parent.parent
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:schemathesis",
            "-p",
            "no:hypothesispytest",
            "--ds=testproject.settings",
            "test_host.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_the_plugin_imports_nothing_of_django():
    """pytest loads it in every run where apierrors is installed, Django project or not."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, apierrors.pytest_plugin; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework')"
            " or m.startswith('apierrors.') and m != 'apierrors.pytest_plugin'))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# -- class decorators on Django test cases -----------------------------------------------------


@override_error("authorization_failed", message="Not your patient.", error_code=7007)
class OverriddenTestCase(TestCase):
    databases = {"default", "other"}

    @classmethod
    def setUpTestData(cls):
        load_demo()

    def setUp(self):
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {DEMO_TOKEN}"}

    def test_other_practices_patient(self):
        response = self.client.get(f"/api/v1/patients/{OTHER_PRACTICE_PATIENT_ID}/", **self.auth)
        exc = assert_error_response(response, 403, key="authorization_failed", error_code=7007)
        self.assertEqual(exc.message, "Not your patient.")

    def test_every_test_of_the_class_is_overridden(self):
        response = self.client.get(
            f"/api/v1/patients/{OTHER_PRACTICE_PATIENT_ID}/", HTTP_ACCEPT=PROBLEM, **self.auth
        )
        self.assertEqual(assert_error_response(response, 403).error_code, 7007)


@override_error("not_found", message="Nothing here.", error_code=9009)
@override_error("authentication_failed", message="Log in first.")
class OverriddenSimpleTestCase(SimpleTestCase):
    """No database at all: requests that fail before any query still answer as overridden."""

    def test_unknown_url_under_the_api(self):
        response = self.client.get("/api/v1/no-such-thing/")
        exc = assert_error_response(response, 404, key="not_found", error_code=9009)
        self.assertEqual(exc.message, "Nothing here.")

    def test_unauthenticated_request(self):
        response = self.client.post(
            "/api/v1/shipstream/appointments/", {}, content_type="application/json"
        )
        exc = assert_error_response(response, 401, key="authentication_failed", error_code=5)
        self.assertEqual((exc.format, exc.message), ("shipstream", "Log in first."))


# -- assert_error_response: every format, headers or body --------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "accept", "format_name"),
    [
        ("/api/v1/appointments/", None, "fhir"),
        ("/api/v1/appointments/", PROBLEM, "problem"),
        ("/api/v1/docplanner/bookings/", None, "docplanner"),
        ("/api/v1/shipstream/appointments/", None, "shipstream"),
    ],
)
def test_every_format(client_north, path, accept, format_name):
    extra = {"HTTP_ACCEPT": accept} if accept else {}
    with override_error("appointment_unavailable", error_code=4242, message="Try another slot."):
        response = book_taken_slot(client_north, path, **extra)
    exc = assert_error_response(response, 422, key="appointment_unavailable", error_code=4242)
    assert exc.format == format_name
    # Docplanner's body is only the code (the message is then the reason phrase, which
    # Python 3.13 spells "Unprocessable Content"); the others carry the overridden text.
    assert exc.message == (
        response.reason_phrase if format_name == "docplanner" else "Try another slot."
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/api/v1/appointments/", PROBLEM),
        ("/api/v1/docplanner/bookings/", None),
        ("/api/v1/shipstream/appointments/", None),
    ],
)
def test_the_body_is_read_when_a_proxy_strips_the_headers(client_north, path, accept):
    extra = {"HTTP_ACCEPT": accept} if accept else {}
    response = book_taken_slot(client_north, path, **extra)
    del response["X-Error-Code"]
    del response["X-Error-Key"]
    assert_error_response(response, 422, error_code=1)


@pytest.mark.django_db
def test_fhir_without_headers_has_no_code_and_says_so(client_north):
    response = book_taken_slot(client_north)
    del response["X-Error-Code"]
    with pytest.raises(
        AssertionError,
        match=r"error_code none \(no X-Error-Code header, none "
        r"in the body\), expected 1",
    ):
        assert_error_response(response, 422, error_code=1)


@pytest.mark.django_db
def test_validation_details_are_at_hand(client_north):
    response = client_north.post("/api/v1/patients/", {"name": ""}, format="json")
    exc = assert_error_response(response, 400, key="invalid_request", error_code=2)
    assert {path for path, _message in exc.details} >= {"name", "identifier"}


# -- assert_error_response: failures say what differed -----------------------------------------


@pytest.mark.django_db
def test_a_success_fails_the_assertion_showing_the_body(client_north):
    response = client_north.get(f"/api/v1/patients/{DEMO_PATIENT_ID}/")
    with pytest.raises(
        AssertionError,
        match=r"(?s)Expected an error response \(status 404\), "
        r"got 200 OK\.\nBody \(application/json\): \{.*" + str(DEMO_PATIENT_ID),
    ):
        assert_error_response(response, 404)


@pytest.mark.django_db
def test_each_difference_is_named(client_north):
    response = book_taken_slot(client_north)
    with pytest.raises(AssertionError) as failure:
        assert_error_response(response, 409, key="conflict", error_code=13)
    text = str(failure.value)
    assert text.startswith(
        "Error response differs: status 422, expected 409; key "
        "'appointment_unavailable', expected 'conflict'; error_code 1, "
        "expected 13.\n"
    )
    assert f"Got: 422 appointment_unavailable (error_code 1): {BOOKED}" in text
    assert 'Body (application/fhir+json): {"resourceType":"OperationOutcome"' in text


@pytest.mark.django_db
def test_only_the_given_fields_are_checked(client_north):
    response = book_taken_slot(client_north)
    assert_error_response(response)
    assert_error_response(response, key="appointment_unavailable")
    with pytest.raises(
        AssertionError,
        match=r"^Error response differs: error_code 1, "
        r"expected 2\.\n",
    ):
        assert_error_response(response, error_code=2)


# -- a live server: the override is process-wide -----------------------------------------------


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_live_servers_thread_sees_the_override(live_server):
    url = f"{live_server.url}/api/v1/patients/"
    with override_error("authentication_failed", message="Log in first.", error_code=5005):
        with_requests = requests.get(url, timeout=10, headers={"Accept": PROBLEM})
        with_httpx = httpx.get(url, timeout=10)
    for response in (with_requests, with_httpx):
        exc = assert_error_response(response, 401, key="authentication_failed", error_code=5005)
        assert exc.message == "Log in first."
    after = requests.get(url, timeout=10)
    assert assert_error_response(after, 401, error_code=5).message == "Authentication failed"
