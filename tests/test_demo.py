"""The demo as a newcomer sees it: the statuses only special routes produce, the requests
``manage.py demo`` prints, and the admin's static files with DEBUG off.

The README's "What a client can rely on" table says which demo request produces each status;
these are the ones no other test makes through the demo: 401 ``unauthorized``
(``/api/v1/audit-log/``), 409 ``conflict``, 428 (``PATCH /api/v1/practitioners/<id>/``
without ``If-Match``) and 500 (``/api/v1/broken/``).
"""

import json
import logging
import re
import shlex
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from apierrors.models import ErrorCode
from testproject.clinic.demo_data import DEMO_TOKEN, OTHER_TOKEN
from testproject.clinic.models import Patient, Practitioner

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
BUG_TEXT = "Deliberate demo bug"


def token_client(token: str = DEMO_TOKEN, **kwargs) -> APIClient:
    client = APIClient(**kwargs)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


# -- 401 unauthorized: a valid token that may not read the audit log ---------------------------


def test_a_valid_token_may_not_read_the_audit_log_401_without_a_challenge(demo):
    response = token_client().get("/api/v1/audit-log/", HTTP_ACCEPT=PROBLEM)
    assert response.status_code == 401
    assert "WWW-Authenticate" not in response
    assert (response["X-Error-Key"], response["X-Error-Code"]) == ("unauthorized", "6")
    body = response.json()
    assert (body["key"], body["error_code"], body["status"]) == ("unauthorized", 6, 401)
    assert body["detail"] == "The credentials are valid but may not access this resource."


def test_without_credentials_the_audit_log_is_401_with_the_challenge(demo):
    response = APIClient().get("/api/v1/audit-log/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response["X-Error-Key"] == "authentication_failed"


def test_an_admin_session_reads_the_audit_log(demo):
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    entry = ErrorCode.objects.get(key="unknown_resource")
    LogEntry.objects.create(
        user=admin,
        content_type=ContentType.objects.get_for_model(ErrorCode),
        object_id=str(entry.pk),
        object_repr=str(entry),
        action_flag=CHANGE,
        change_message=json.dumps([{"changed": {"fields": ["Message template"]}}]),
    )
    client = APIClient()
    client.force_login(admin)
    response = client.get("/api/v1/audit-log/")
    assert response.status_code == 200
    assert [(e["user"], e["entry"], e["change"]) for e in response.json()] == [
        ("boss", str(entry), "Changed Message template.")
    ]


def test_a_session_of_someone_not_staff_is_403(demo):
    client = APIClient()
    client.force_login(get_user_model().objects.get(username="north"))
    response = client.get("/api/v1/audit-log/")
    assert response.status_code == 403
    assert response["X-Error-Key"] == "authorization_failed"
    assert "WWW-Authenticate" not in response


# -- 409 conflict: an integrity error that is no duplicate -------------------------------------


def test_the_admin_creating_a_patient_is_409_conflict_and_creates_nothing(demo):
    # The admin works for no practice; the database refuses a patient without one.
    admin = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client = APIClient()
    client.force_login(admin)
    response = client.post(
        "/api/v1/patients/",
        {"identifier": "X-1", "name": "Nobody's"},
        format="json",
        HTTP_ACCEPT=PROBLEM,
    )
    assert response.status_code == 409
    assert (response.json()["key"], response["X-Error-Code"]) == ("conflict", "13")
    assert not Patient.objects.filter(identifier="X-1").exists()


# -- 428: practitioners are edited only with If-Match ------------------------------------------


@pytest.fixture
def practitioner(demo) -> Practitioner:
    return Practitioner.objects.get(practice__name="North Clinic")


def test_editing_a_practitioner_without_if_match_is_428_and_changes_nothing(practitioner):
    for method in ("patch", "put"):
        response = getattr(token_client(), method)(
            f"/api/v1/practitioners/{practitioner.pk}/",
            {"name": "Dr. J. Snow"},
            format="json",
            HTTP_ACCEPT=PROBLEM,
        )
        assert response.status_code == 428
        assert (response["X-Error-Key"], response["X-Error-Code"]) == (
            "precondition_required",
            "17",
        )
        assert response.json()["detail"] == (
            "This request must be conditional: send If-Match with the resource's ETag."
        )
    practitioner.refresh_from_db()
    assert practitioner.name == "Dr. John Snow"


def test_editing_a_practitioner_with_its_etag_succeeds_once(practitioner):
    client, url = token_client(), f"/api/v1/practitioners/{practitioner.pk}/"
    etag = client.get(url)["ETag"]
    updated = client.patch(url, {"name": "Dr. J. Snow"}, format="json", HTTP_IF_MATCH=etag)
    assert updated.status_code == 200
    assert updated.json()["name"] == "Dr. J. Snow"
    stale = client.patch(url, {"name": "Lost update"}, format="json", HTTP_IF_MATCH=etag)
    assert (stale.status_code, stale["X-Error-Key"]) == (412, "precondition_failed")
    practitioner.refresh_from_db()
    assert practitioner.name == "Dr. J. Snow"


def test_another_practices_staff_may_read_but_not_edit_a_practitioner(practitioner):
    client, url = token_client(OTHER_TOKEN), f"/api/v1/practitioners/{practitioner.pk}/"
    etag = client.get(url)["ETag"]
    response = client.patch(url, {"name": "Taken over"}, format="json", HTTP_IF_MATCH=etag)
    assert (response.status_code, response["X-Error-Key"]) == (403, "authorization_failed")


# -- 500: the deliberately broken endpoint ----------------------------------------------------


@pytest.mark.parametrize("accept", ["application/fhir+json", PROBLEM])
def test_the_broken_endpoint_is_a_clean_500(accept, caplog):
    assert settings.DEBUG is False
    # The 500 is reported as Django reports a crash, so the test client would re-raise it.
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.ERROR, logger="apierrors"):
        response = client.get("/api/v1/broken/", HTTP_ACCEPT=accept)
    assert response.status_code == 500
    assert (response["X-Error-Key"], response["X-Error-Code"]) == ("internal_error", "21")
    assert response["Content-Type"] == accept
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    text = response.content.decode()
    assert BUG_TEXT not in text and "Traceback" not in text and "RuntimeError" not in text
    assert request_id in text
    if accept == PROBLEM:
        assert response.json()["detail"] == "Internal server error"
    else:
        assert response.json()["issue"][0]["details"] == {"text": "Internal server error"}
    # The text and the traceback are in the log line that carries the same request id.
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged
    assert logged[0].exc_info is not None
    assert BUG_TEXT in str(logged[0].exc_info[1])


def test_the_broken_endpoint_is_left_out_of_the_schema(client):
    pytest.importorskip("drf_spectacular")
    paths = client.get("/api/schema/?format=json").json()["paths"]
    assert "/api/v1/broken/" not in paths
    assert "/api/v1/audit-log/" in paths
    assert "428" in paths["/api/v1/practitioners/{id}/"]["patch"]["responses"]


# -- what `manage.py demo` prints --------------------------------------------------------------


def parse_curl(line: str) -> tuple[str, str, dict[str, str], str, int]:
    """``curl -i [-X M] URL [-H 'K: V']... [-d BODY]    # STATUS …`` → its parts."""
    command, comment = line.split("    # ", 1)
    method, url, headers, body = "GET", "", {}, ""
    args = iter(shlex.split(command)[2:])
    for arg in args:
        if arg == "-X":
            method = next(args)
        elif arg == "-H":
            name, value = next(args).split(": ", 1)
            headers[name] = value
        elif arg == "-d":
            body = next(args)
        else:
            url = arg
    return method, url, headers, body, int(comment[:3])


@pytest.mark.django_db(databases="__all__")  # the demo command migrates both databases
def test_every_request_the_demo_prints_answers_as_it_says():
    out = StringIO()
    call_command("demo", "--no-serve", "--addrport", "127.0.0.1:8123", stdout=out)
    printed = out.getvalue()
    assert re.search(
        r"Admin: +http://127\.0\.0\.1:8123/admin/ +user: admin +password: \S+", printed
    )
    tries = [
        line.strip()
        for line in printed.replace("\\\n", " ").splitlines()
        if line.strip().startswith("curl ")
    ]
    assert len(tries) == 6
    client = Client(raise_request_exception=False)
    seen = set()
    for line in tries:
        method, url, headers, body, expected = parse_curl(line)
        assert url.startswith("http://127.0.0.1:8123/api/v1/"), line
        response = client.generic(
            method,
            urlsplit(url).path,
            body,
            content_type=headers.pop("Content-Type", ""),
            headers=headers,
        )
        assert response.status_code == expected, line
        seen.add(response.get("X-Error-Key"))
    assert {
        "unknown_resource",
        "authentication_failed",
        "unauthorized",
        "precondition_required",
        "internal_error",
    } <= seen


# -- the admin's CSS and JavaScript, DEBUG off -------------------------------------------------


def test_whitenoise_sits_after_the_transaction_and_error_middleware():
    middleware = settings.MIDDLEWARE
    assert middleware[:2] == [
        "apierrors.middleware.AtomicRequestsMiddleware",
        "apierrors.errors_middleware.APIErrorsMiddleware",
    ]
    assert middleware.index("whitenoise.middleware.WhiteNoiseMiddleware") == (
        middleware.index("django.middleware.security.SecurityMiddleware") + 1
    )


@pytest.mark.parametrize(
    ("path", "media_type", "content"),
    [
        ("/static/admin/css/base.css", "text/css", b"--header-bg"),
        ("/static/apierrors/admin.css", "text/css", b".apierrors-preview"),
        ("/static/apierrors/admin-preview.js", "text/javascript", b"apierrors-preview"),
    ],
)
def test_the_admins_static_files_are_served_with_debug_off(client, path, media_type, content):
    assert settings.DEBUG is False
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(media_type)
    assert content in b"".join(response.streaming_content)
    response.close()


def test_the_admin_login_page_links_the_served_stylesheet(client):
    page = client.get("/admin/login/")
    assert page.status_code == 200
    assert b'href="/static/admin/css/base.css"' in page.content
