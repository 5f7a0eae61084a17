"""Hostile input against the server: bodies, paths, headers and settings that used to give a
500, leak a 5xx's text, forge a log line, cost seconds, or quietly weaken the guarantee.

Everything goes through the public surface: the HTTP test client on the demo's endpoints
(and a few views in ``tests/hostile_urls.py`` that fail in known ways), the log records,
and Django's system checks.
"""

import json
import logging

import pytest
from django.contrib.auth.models import Group, User
from django.core.checks import run_checks
from django.db import connections
from django.test import Client

from apierrors.http.routing import MAX_OWNER_SEGMENTS
from apierrors.openapi import validation as openapi

from ..runtime.test_runtime_resilience import database_unreachable
from .hostile_urls import SECRET, CountingPattern

pytestmark = pytest.mark.urls("tests.http.hostile_urls")

# Deeper than the JSON decoder of any supported Python goes: 3.11's stops at its recursion
# limit (1,000), 3.12+'s C decoder at its own C limit (about 10,000).
NESTED = "[" * 100_000 + "]" * 100_000  # 200 KB
FORMATS = {
    "fhir": "application/fhir+json",
    "problem": "application/problem+json",
}


@pytest.fixture
def client():
    """Some of these cause a 5xx on purpose and read it (the default client re-raises)."""
    return Client(raise_request_exception=False)


@pytest.fixture
def validation_on(settings):
    settings.APIERRORS = {**settings.APIERRORS, "OPENAPI_VALIDATION": True}
    openapi.forget_schemas()
    yield
    openapi.forget_schemas()


def token(demo) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {demo['north']}"}


def body(response) -> dict:
    return json.loads(response.content)


# -- 5: a body nested too deeply to parse ------------------------------------------------------


@pytest.mark.parametrize("validation", [False, True], ids=["plain", "openapi"])
def test_deeply_nested_json_is_a_parse_error_not_a_500(request, client, demo, validation):
    if validation:
        pytest.importorskip("openapi_core")
        request.getfixturevalue("validation_on")
    response = client.post(
        "/api/v1/patients/",
        NESTED,
        content_type="application/json",
        HTTP_ACCEPT=FORMATS["problem"],
        **token(demo),
    )
    assert response.status_code == 400
    assert response["X-Error-Key"] == "parse_error"
    assert body(response)["errors"][0]["detail"] == (
        "The request body is nested too deeply to be parsed."
    )


@pytest.mark.parametrize("validation", [False, True], ids=["plain", "openapi"])
def test_json_nested_1000_deep_is_a_client_error_on_every_python(request, client, demo, validation):
    # The 2 KB body: 3.11 cannot parse it (parse_error); 3.12+ parses it, and then
    # the endpoint refuses a list where it wants an object. Never a 500.
    nested = "[" * 1000 + "]" * 1000
    try:
        json.loads(nested)
    except RecursionError:
        expected = "parse_error"
    else:
        expected = "openapi_validation" if validation else "invalid_request"
    if validation:
        pytest.importorskip("openapi_core")
        request.getfixturevalue("validation_on")
    response = client.post(
        "/api/v1/patients/", nested, content_type="application/json", **token(demo)
    )
    assert (response.status_code, response["X-Error-Key"]) == (400, expected)


def test_deeply_nested_object_on_a_plain_parsing_view(client):
    nested = '{"a":' * 100_000 + "1" + "}" * 100_000
    response = client.post("/api/v1/hostile/echo/", nested, content_type="application/json")
    assert (response.status_code, response["X-Error-Key"]) == (400, "parse_error")


def test_a_recursion_bug_in_a_view_stays_a_500(client):
    # Not the body's doing: the view's own code recursed. It must stay visible.
    response = client.post("/api/v1/hostile/recurse/", "{}", content_type="application/json")
    assert (response.status_code, response["X-Error-Key"]) == (500, "internal_error")
    with pytest.raises(RecursionError):  # the default test client re-raises a bug
        Client().post("/api/v1/hostile/recurse/", "{}", content_type="application/json")


# -- 6: multipart without a boundary, OpenAPI validation on ----------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=",
        'multipart/form-data; boundary=""',
    ],
)
@pytest.mark.parametrize("validation", [False, True], ids=["plain", "openapi"])
def test_multipart_without_a_boundary_is_a_400(request, client, demo, content_type, validation):
    if validation:
        pytest.importorskip("openapi_core")
        request.getfixturevalue("validation_on")
    response = client.post(
        "/api/v1/patients/",
        b"--x\r\nnot multipart\r\n--x--\r\n",
        content_type=content_type,
        **token(demo),
    )
    assert (response.status_code, response["X-Error-Key"]) == (400, "parse_error")


def test_multipart_part_without_a_name_is_not_a_500(client, demo, validation_on):
    pytest.importorskip("openapi_core")
    payload = b"--b\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--b--\r\n"
    response = client.post(
        "/api/v1/patients/", payload, content_type="multipart/form-data; boundary=b", **token(demo)
    )
    assert response.status_code == 400  # DRF reads no field: the serializer's validation
    assert response["X-Error-Key"] == "invalid_request"


# -- 9: a third party's 5xx APIException: its status kept, its text never shown ---------------


@pytest.mark.parametrize(
    ("kind", "status", "key"),
    [
        ("500", 500, "internal_error"),
        ("502", 502, "internal_error"),
        ("503", 503, "service_unavailable"),
        ("504", 504, "internal_error"),
    ],
)
@pytest.mark.parametrize("fmt", ["fhir", "problem", "docplanner", "shipstream"])
def test_5xx_api_exception_keeps_its_status_and_hides_its_text(
    client, settings, kind, status, key, fmt
):
    settings.APIERRORS = {**settings.APIERRORS, "DEFAULT_FORMAT": fmt}
    response = client.get(f"/api/v1/hostile/raise/{kind}/")
    assert response.status_code == status
    assert response["X-Error-Key"] == key
    assert b"hunter2" not in response.content and b"10.0.0.7" not in response.content
    assert response["X-Request-ID"]
    if status == 503:
        assert response["Retry-After"].isdigit()
    if fmt == "problem":
        assert body(response)["status"] == status  # the body agrees with the status line
        assert body(response)["errors"] == []
        assert body(response)["detail"] == (
            "The service is temporarily unavailable. Try again later."
            if status == 503
            else "Internal server error"
        )


def test_5xx_api_exception_text_is_logged_not_sent(client, caplog):
    with caplog.at_level(logging.ERROR, logger="apierrors"):
        response = client.get("/api/v1/hostile/raise/502/")
    (record,) = [r for r in caplog.records if r.name == "apierrors"]
    assert response["X-Request-ID"] in record.getMessage()
    assert SECRET in str(record.exc_info[1])  # the traceback has it, for whoever debugs


def test_5xx_api_exception_text_shows_with_debug(client, settings):
    settings.DEBUG = True
    response = client.get("/api/v1/hostile/raise/500/", HTTP_ACCEPT=FORMATS["problem"])
    assert response.status_code == 500
    assert body(response)["errors"][0]["detail"] == f"APIException: {SECRET}"


def test_unknown_4xx_api_exception_keeps_its_status_and_text(client):
    response = client.get("/api/v1/hostile/raise/418/", HTTP_ACCEPT=FORMATS["problem"])
    assert response.status_code == 418  # not turned into a 500
    assert response["X-Error-Key"] == "invalid_request"
    assert body(response)["status"] == 418
    assert body(response)["errors"][0]["detail"] == "Short and stout."


def test_maintenance_503_still_answers_with_its_entry(client, settings):
    settings.APIERRORS = {**settings.APIERRORS, "MAINTENANCE": True}
    response = client.get("/api/v1/patients/", HTTP_ACCEPT=FORMATS["problem"])
    assert (response.status_code, response["X-Error-Key"]) == (503, "maintenance")
    assert body(response)["detail"] == "The API is down for maintenance. Try again later."


# -- 10: no forged log lines ------------------------------------------------------------------


def test_control_characters_in_the_path_cannot_forge_a_log_line(client, caplog):
    forged = "%0A2026-01-01 00:00:00 INFO all is well%0D%1B[31m%E2%80%A8"
    with caplog.at_level(logging.ERROR, logger="apierrors"):
        response = client.get(f"/api/v1/hostile/raise/500/{forged}/é")
    assert response.status_code == 500
    (record,) = [r for r in caplog.records if r.name == "apierrors"]
    line = record.getMessage()
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert "\u2028" not in line
    # Still useful: the path is there, escaped, and readable text stays as it is.
    assert "/api/v1/hostile/raise/500/\\n2026-01-01 00:00:00 INFO all is well\\r\\x1b[31m" in line
    assert line.endswith(f"\\u2028/é: internal_error 500 [request_id={response['X-Request-ID']}]")
    assert line.startswith("GET ")


# -- 14: a database outage keeps non-API pages in Django's HTML ------------------------------


def commit_fails(client, prefix: str, how: str):
    if how == "terminated" and connections["default"].vendor != "postgresql":
        pytest.skip("terminates a PostgreSQL backend: run with APIERRORS_DB=postgres")
    response = client.post(f"{prefix}commit-fails/?how={how}", HTTP_ACCEPT=FORMATS["problem"])
    assert not Group.objects.filter(name="written-before-the-failure").exists()
    return response


COMMIT_FAILURES = ["marked", "deferred", pytest.param("terminated", marks=pytest.mark.postgres)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", COMMIT_FAILURES)
def test_a_failed_commit_on_a_site_page_is_djangos_html_500(client, how):
    response = commit_fails(client, "/site/", how)
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert b"Server Error (500)" in response.content  # Django's own page (handler500)
    assert "X-Error-Key" not in response


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("how", "status", "key"),
    [
        ("marked", 500, "internal_error"),
        ("deferred", 409, "conflict"),
        pytest.param("terminated", 503, "service_unavailable", marks=pytest.mark.postgres),
    ],
)
def test_a_failed_commit_on_an_api_path_stays_in_the_error_format(client, how, status, key):
    response = commit_fails(client, "/api/v1/hostile/", how)
    assert (response.status_code, response["X-Error-Key"]) == (status, key)
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db(databases="__all__")
def test_database_unreachable_admin_and_dictionary_keep_html(client):
    client.force_login(User.objects.create_superuser("staff", "s@example.com", "pw"))
    with database_unreachable():
        admin = client.get("/admin/")
        dictionary = client.get("/errors/")
        api = client.get("/api/v1/hostile/commit-fails/")
    assert admin.status_code == 500 and admin["Content-Type"].startswith("text/html")
    assert "X-Error-Key" not in admin
    # The published dictionary is rendered from the code's declarations meanwhile.
    assert dictionary.status_code == 200 and dictionary["Content-Type"].startswith("text/html")
    assert (api.status_code, api["X-Error-Key"]) == (503, "service_unavailable")


# -- 15: Accept weighs q-values ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/json, application/problem+json;q=0", "application/fhir+json"),
        ("application/problem+json;q=0, application/json", "application/fhir+json"),
        ("application/problem+json", "application/problem+json"),
        ("application/problem+json;q=0.5, application/fhir+json;q=0.9", "application/fhir+json"),
        ("application/fhir+json;q=0.5, application/problem+json", "application/problem+json"),
        ("application/fhir+json;q=0, */*", "application/problem+json"),
        ("application/problem+json, application/fhir+json", "application/fhir+json"),  # a tie
        ("*/*", "application/fhir+json"),
        (
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "application/fhir+json",
        ),
        ("APPLICATION/PROBLEM+JSON; Q=1", "application/problem+json"),
        ("application/problem+json;q=bogus", "application/fhir+json"),  # a bad weight: ignored
        ('application/problem+json;x="a,b", application/fhir+json;q=0', "application/problem+json"),
        ("application/fhir+json;fhirVersion=4.0", "application/fhir+json"),
        ("text/plain", "application/fhir+json"),  # nothing acceptable: errors are still sent
        (
            "application/json, application/fhir+json;q=0, application/problem+json;q=0",
            "application/json",
        ),
    ],
)
def test_error_format_follows_accept_weights(client, accept, media_type):
    response = client.get("/api/v1/no-such-thing/", HTTP_ACCEPT=accept)
    assert response.status_code == 404
    assert response["Content-Type"] == media_type


def test_a_huge_accept_header_is_read_in_bounded_time(client):
    accept = "application/json;q=0.5," * 3000 + "application/problem+json"  # 69 KB
    response = client.get("/api/v1/no-such-thing/", HTTP_ACCEPT=accept)
    # Only the first 64 ranges are looked at: the trailing one is not among them.
    assert (response.status_code, response["Content-Type"]) == (404, "application/fhir+json")
    nasty = '"\\"' * 20000  # an unterminated quoted string full of escapes
    assert client.get("/api/v1/no-such-thing/", HTTP_ACCEPT=nasty).status_code == 404


# -- 16: a path of 32,000 segments costs a bounded number of URL resolutions ------------------


def test_owning_view_search_is_bounded(client):
    CountingPattern.resolutions = 0
    response = client.get("/api/" + "a/" * 32000)  # 64 KB
    assert (response.status_code, response["X-Error-Key"]) == (404, "not_found")
    # The request's own resolution, then the full path and at most MAX_OWNER_SEGMENTS parents.
    assert CountingPattern.resolutions <= MAX_OWNER_SEGMENTS + 3


def test_owning_view_still_found_for_deep_paths(client):
    # Deeper than the search starts, under a view with a format of its own.
    deep = "/api/v1/docplanner/bookings/" + "x/" * (MAX_OWNER_SEGMENTS * 2)
    assert body(client.get(deep)) == {"error_code": 9}
    assert body(client.get("/api/v1/docplanner/bookings/1/no/such/route/")) == {"error_code": 9}


# -- 17: what an upload over the limit gets ---------------------------------------------------


def multipart(**parts: tuple[str | None, bytes]) -> tuple[bytes, str]:
    chunks = []
    for name, (filename, data) in parts.items():
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        chunks.append(
            f"--b\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
        )
    return b"".join(chunks) + b"--b--\r\n", "multipart/form-data; boundary=b"


@pytest.fixture
def small_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1000


def test_json_body_over_the_limit_is_413(client, small_limit):
    response = client.post(
        "/api/v1/hostile/echo/", json.dumps({"a": "x" * 2000}), content_type="application/json"
    )
    assert (response.status_code, response["X-Error-Key"]) == (413, "request_too_large")


def test_multipart_field_over_the_limit_is_413(client, small_limit):
    payload, content_type = multipart(note=(None, b"x" * 2000))
    response = client.post("/api/v1/hostile/echo/", payload, content_type=content_type)
    assert (response.status_code, response["X-Error-Key"]) == (413, "request_too_large")


def test_multipart_file_over_the_limit_is_djangos_design_by_default(client, small_limit):
    # Django streams file parts to its upload handlers (a temporary file past
    # FILE_UPLOAD_MAX_MEMORY_SIZE): DATA_UPLOAD_MAX_MEMORY_SIZE does not count them.
    payload, content_type = multipart(note=(None, b"hi"), scan=("scan.pdf", b"%" * 5000))
    response = client.post("/api/v1/hostile/echo/", payload, content_type=content_type)
    assert response.status_code == 200
    assert body(response) == {"keys": ["note", "scan"], "files": ["scan"]}


def test_max_body_size_limits_uploads_too(client, settings, small_limit):
    settings.APIERRORS = {**settings.APIERRORS, "MAX_BODY_SIZE": 4000}
    payload, content_type = multipart(note=(None, b"hi"), scan=("scan.pdf", b"%" * 5000))
    response = client.post("/api/v1/hostile/echo/", payload, content_type=content_type)
    assert (response.status_code, response["X-Error-Key"]) == (413, "request_too_large")
    small, content_type = multipart(scan=("scan.pdf", b"%" * 3000))
    assert client.post("/api/v1/hostile/echo/", small, content_type=content_type).status_code == 200


# -- 19: settings that weaken the rollback guarantee ------------------------------------------


ATOMIC = "apierrors.middleware.AtomicRequestsMiddleware"


def guarantee_messages(settings, monkeypatch, middleware, atomic_requests=()):
    settings.MIDDLEWARE = middleware
    settings.SILENCED_SYSTEM_CHECKS = []
    for alias in atomic_requests:  # in place: DATABASES itself is not to be overridden
        monkeypatch.setitem(settings.DATABASES[alias], "ATOMIC_REQUESTS", True)
    return {m.id: m for m in run_checks() if m.id in ("apierrors.W003", "apierrors.W004")}


def test_atomic_middleware_first_passes(settings, monkeypatch):
    assert guarantee_messages(settings, monkeypatch, [ATOMIC, *settings.MIDDLEWARE[1:]]) == {}


def test_middleware_that_cannot_break_it_may_sit_above(settings, monkeypatch):
    above = [
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "django.middleware.gzip.GZipMiddleware",
        "corsheaders.middleware.CorsMiddleware",
        "apierrors.errors_middleware.APIErrorsMiddleware",
    ]
    below = ["django.contrib.sessions.middleware.SessionMiddleware"]
    assert guarantee_messages(settings, monkeypatch, [*above, ATOMIC, *below]) == {}


def test_middleware_that_writes_above_it_warns(settings, monkeypatch):
    messages = guarantee_messages(
        settings,
        monkeypatch,
        [
            "django.middleware.security.SecurityMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.http.ConditionalGetMiddleware",
            ATOMIC,
        ],
    )
    assert set(messages) == {"apierrors.W003"}
    text = messages["apierrors.W003"].msg
    assert (
        "django.contrib.sessions.middleware.SessionMiddleware, "
        "django.middleware.http.ConditionalGetMiddleware run outside"
    ) in text
    assert "SecurityMiddleware," not in text
    assert "first" in messages["apierrors.W003"].hint


def test_a_subclass_of_the_middleware_counts(settings, monkeypatch):
    messages = guarantee_messages(
        settings,
        monkeypatch,
        [
            "django.contrib.sessions.middleware.SessionMiddleware",
            "tests.http.hostile_urls.ProjectAtomicRequestsMiddleware",
        ],
    )
    assert set(messages) == {"apierrors.W003"}


def test_atomic_requests_beside_the_middleware_warns(settings, monkeypatch):
    messages = guarantee_messages(settings, monkeypatch, [ATOMIC], atomic_requests={"other"})
    assert set(messages) == {"apierrors.W004"}
    text = messages["apierrors.W004"].msg
    assert "DATABASES['other'] has ATOMIC_REQUESTS = True" in text
    assert "@non_atomic" in text and "not wrapped" not in text


def test_atomic_requests_on_an_unwrapped_alias_says_so(settings, monkeypatch):
    settings.APIERRORS = {**settings.APIERRORS, "ATOMIC_DATABASES": ["default"]}
    messages = guarantee_messages(settings, monkeypatch, [ATOMIC], atomic_requests={"other"})
    assert "'other' is not wrapped" in messages["apierrors.W004"].msg


def test_no_warning_without_the_middleware(settings, monkeypatch):
    sessions = "django.contrib.sessions.middleware.SessionMiddleware"
    assert guarantee_messages(settings, monkeypatch, [sessions], atomic_requests={"default"}) == {}


# -- beyond the list: what the fuzzing of the demo endpoints found ----------------------------


@pytest.mark.parametrize("fmt", ["fhir", "problem", "shipstream"])
def test_a_lone_surrogate_echoed_in_a_detail_is_escaped_not_a_500(client, demo, settings, fmt):
    # JSON "\ud800" parses (to a lone surrogate) and DRF quotes it back: '"\ud800" is not a
    # valid UUID.' UTF-8 has no such character; the body escapes it.
    settings.APIERRORS = {**settings.APIERRORS, "DEFAULT_FORMAT": fmt}
    response = client.post(
        "/api/v1/appointments/",
        b'{"slot": 1, "patient": "\\ud800"}',
        content_type="application/json",
        **token(demo),
    )
    assert (response.status_code, response["X-Error-Key"]) == (400, "invalid_request")
    assert b"\\ud800" in response.content
    assert "\ud800" in json.dumps(body(response), ensure_ascii=False)


def test_a_number_too_big_for_a_float_is_a_parse_error(client, demo):
    response = client.post(
        "/api/v1/appointments/",
        b'{"slot": 1e999, "patient": "x"}',
        content_type="application/json",
        **token(demo),
    )
    assert (response.status_code, response["X-Error-Key"]) == (400, "parse_error")


def test_openapi_validation_with_a_bogus_content_length(client, demo, validation_on):
    response = client.post(
        "/api/v1/patients/",
        b"{}",
        content_type="application/json",
        CONTENT_LENGTH="abc",
        **token(demo),
    )
    assert response.status_code == 400  # an empty body, as DRF reads it: not a 500


def test_openapi_validation_of_a_deeply_nested_value(client, demo, validation_on):
    nested = '{"identifier": "n-1", "name": ' + '{"a":' * 500 + "1" + "}" * 500 + "}"
    response = client.post(
        "/api/v1/patients/",
        nested,
        content_type="application/json",
        HTTP_ACCEPT=FORMATS["problem"],
        **token(demo),
    )
    assert (response.status_code, response["X-Error-Key"]) == (400, "openapi_validation")
    (error,) = body(response)["errors"]
    assert error["pointer"] == "#/invalid_body"
    assert len(error["detail"]) < 400  # the value it refuses is quoted, not all of it


def test_openapi_core_failing_on_a_request_is_not_a_500(client, demo, validation_on, caplog):
    # openapi-core's media type parser raises on this Content-Type; DRF parses it fine.
    with caplog.at_level(logging.WARNING, logger="apierrors"):
        response = client.post(
            "/api/v1/patients/",
            b'{"identifier": "w-1", "name": "W"}',
            content_type='application/json; charset="; boundary=;;',
            **token(demo),
        )
    assert response.status_code in (201, 400)
    assert any(
        "OpenAPI validation of POST /api/v1/patients/ stopped" in r.getMessage()
        for r in caplog.records
    )
