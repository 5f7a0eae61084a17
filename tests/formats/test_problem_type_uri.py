"""problem+json's ``type`` is the entry's page as an absolute URL on the request's own origin.

The origin (scheme and validated host) is worked out once per distinct set of the headers that
decide it and reused: each request must still get its own origin, a host Django refuses must
never get one, and a settings change (ALLOWED_HOSTS, proxy headers) must be obeyed at once.
"""

import json

import pytest
from django.test import Client

from apierrors.dictionary.catalog import dictionary_changed, get_entry
from apierrors.formats import get_format
from apierrors.formats.problem import ProblemFormat
from apierrors.handling.normalized import NormalizedError
from apierrors.models import ErrorCode

pytestmark = [
    pytest.mark.urls("tests.runtime.runtime_urls"),
    pytest.mark.django_db(databases="__all__"),
]


def problem_type(client: Client, **headers) -> str:
    response = client.get("/rt/problem/business/", **headers)
    assert response.status_code == 422
    return json.loads(response.content)["type"]


def test_each_host_and_scheme_gets_its_own_type_url(settings):
    settings.ALLOWED_HOSTS = ["api.example.com", "testserver"]
    client = Client()
    assert problem_type(client) == "http://testserver/errors/appointment_unavailable/"
    assert problem_type(client, HTTP_HOST="api.example.com") == (
        "http://api.example.com/errors/appointment_unavailable/"
    )
    assert problem_type(client, HTTP_HOST="api.example.com", secure=True) == (
        "https://api.example.com/errors/appointment_unavailable/"
    )
    assert problem_type(client) == "http://testserver/errors/appointment_unavailable/"


def test_a_refused_host_gets_the_path_only_even_after_it_was_allowed(settings, rf):
    # Straight to the format (a request that no middleware checked, as in a host's own
    # handler): the cached origin must not outlive the setting that allowed it.
    settings.ALLOWED_HOSTS = ["api.example.com", "testserver"]
    entry = get_entry("appointment_unavailable")
    error = NormalizedError(entry=entry, message="Taken.")
    request = rf.get("/api/v1/x/", HTTP_HOST="api.example.com")
    assert get_format("problem").type_uri(error, request) == (
        "http://api.example.com/errors/appointment_unavailable/"
    )
    settings.ALLOWED_HOSTS = ["testserver"]
    request = rf.get("/api/v1/x/", HTTP_HOST="api.example.com")
    assert get_format("problem").type_uri(error, request) == ("/errors/appointment_unavailable/")


def test_proxy_settings_are_obeyed_when_they_change(settings):
    settings.ALLOWED_HOSTS = ["api.example.com", "testserver"]
    client = Client()
    forwarded = {"HTTP_X_FORWARDED_HOST": "api.example.com", "HTTP_X_FORWARDED_PROTO": "https"}
    assert problem_type(client, **forwarded) == (
        "http://testserver/errors/appointment_unavailable/"
    )
    settings.USE_X_FORWARDED_HOST = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert problem_type(client, **forwarded) == (
        "https://api.example.com/errors/appointment_unavailable/"
    )
    assert problem_type(client) == "http://testserver/errors/appointment_unavailable/"


def problem_body(client: Client, **headers) -> dict:
    response = client.get("/rt/problem/business/", **headers)
    assert response.status_code == 422
    return json.loads(response.content)


def test_the_members_written_once_follow_the_language_and_the_entry(
    client, django_capture_on_commit_callbacks
):
    # type, title, status, error_code and key are written once per entry, title and origin:
    # another language, or an edit (a new entry), must show at once.
    assert problem_body(client)["title"] == "Appointment unavailable"
    assert problem_body(client, HTTP_ACCEPT_LANGUAGE="pl")["title"] == "Termin niedostępny"
    assert problem_body(client)["title"] == "Appointment unavailable"
    with django_capture_on_commit_callbacks(execute=True):
        ErrorCode.objects.filter(key="appointment_unavailable").update(
            title="Slot taken", error_code=4422
        )
        dictionary_changed()
    body = problem_body(client)
    assert (body["title"], body["error_code"], body["status"]) == ("Slot taken", 4422, 422)


def test_a_subclass_with_its_own_type_uri_is_asked_every_time(rf):
    class Versioned(ProblemFormat):
        def type_uri(self, error, request):
            return f"https://docs.example.com/{request.GET['v']}/{error.entry.key}"

    error = NormalizedError(entry=get_entry("appointment_unavailable"), message="Taken.")
    problem = Versioned()
    for version in ("v1", "v2"):
        body = json.loads(problem.render_json(error, rf.get(f"/api/x/?v={version}")))
        assert body["type"] == f"https://docs.example.com/{version}/appointment_unavailable"
