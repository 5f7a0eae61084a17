"""Each exception DRF, Django or a view can raise → its dictionary entry, status and headers."""

import logging

import pytest
from django.test import Client


@pytest.fixture
def client():
    """These tests cause 5xx on purpose and read the response. Django's default test client
    would re-raise the exception behind a 5xx (apierrors sends got_request_exception, as
    Django does; see tests/handling/test_bugs_stay_visible.py)."""
    return Client(raise_request_exception=False)


pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.handling.raising.urls")]


def get(client, name, **extra):
    return client.get(f"/api/raise/{name}/", HTTP_ACCEPT="application/problem+json", **extra)


@pytest.mark.parametrize(
    ("name", "status", "key"),
    [
        ("drf-validation", 400, "invalid_request"),
        ("drf-parse", 400, "parse_error"),
        ("drf-not-authenticated", 401, "authentication_failed"),
        ("drf-permission", 403, "authorization_failed"),
        ("drf-not-found", 404, "not_found"),
        ("drf-not-acceptable", 406, "not_acceptable"),
        ("drf-unsupported", 415, "unsupported_media_type"),
        ("drf-throttled", 429, "throttled"),
        ("drf-custom", 409, "conflict"),
        ("django-404", 404, "not_found"),
        ("django-permission", 403, "authorization_failed"),
        ("django-validation", 400, "invalid_request"),
        ("does-not-exist", 404, "not_found"),
        ("integrity", 409, "conflict"),
        ("protected", 409, "protected"),
        ("operational", 503, "service_unavailable"),
        ("bug", 500, "internal_error"),
        ("api-error", 422, "appointment_unavailable"),
        ("unknown-key", 500, "internal_error"),
        ("resource", 404, "unknown_resource"),
        ("invalid-token", 401, "authentication_failed"),
        ("unauthorized", 401, "unauthorized"),
        ("rate-limit", 429, "throttled"),
        ("unavailable", 503, "service_unavailable"),
    ],
)
def test_exception_maps_to_entry(client, name, status, key):
    response = get(client, name)
    assert response.status_code == status
    body = response.json()
    assert body["status"] == status
    assert body["key"] == key
    assert response["X-Error-Key"] == key
    assert response["Content-Type"] == "application/problem+json"


def test_validation_paths_nested_and_list(client):
    body = get(client, "drf-validation").json()
    assert [(e["pointer"], e["code"]) for e in body["errors"]] == [
        ("#/address/city", "required"),
        ("#/items/1/email", "invalid"),
        ("#/items/1/tags/0", "invalid"),
    ]


def test_django_validation_error_fields_and_non_field(client):
    body = get(client, "django-validation").json()
    assert [(e["pointer"], e["detail"]) for e in body["errors"]] == [
        ("#/name", "Too short."),
        ("#", "Inconsistent."),
    ]


def test_custom_api_exception_keeps_its_detail(client):
    body = get(client, "drf-custom").json()
    assert body["errors"] == [{"pointer": "#", "detail": "Already archived.", "code": "error"}]


def test_resource_template_params(client):
    body = get(client, "resource").json()
    assert body["detail"] == "Unknown Practitioner resource '42'"


def test_details_given_by_the_view(client):
    body = get(client, "details").json()
    assert body["detail"] == "This appointment time is no longer available."
    assert body["errors"] == [{"pointer": "#/slot", "detail": "Booked at 10:00.", "code": None}]


def test_throttled_headers(client):
    response = get(client, "drf-throttled")
    assert response["Retry-After"] == "13"
    assert response["X-Rate-Limit-Remaining"] == "0"


def test_rate_limit_exceeded_headers(client):
    response = get(client, "rate-limit")
    assert response["Retry-After"] == "30"
    assert response["X-Rate-Limit-Remaining"] == "0"


def test_service_unavailable_retry_after(client):
    assert get(client, "unavailable")["Retry-After"] == "120"
    assert get(client, "operational")["Retry-After"].isdigit()


def test_invalid_access_token_challenges_unauthorized_does_not(client):
    assert get(client, "invalid-token")["WWW-Authenticate"] == (
        'Bearer realm="api", error="invalid_token"'
    )
    assert "WWW-Authenticate" not in get(client, "unauthorized")


@pytest.mark.parametrize("name", ["bug", "integrity", "django-404", "protected", "operational"])
def test_exception_text_never_reaches_the_body(client, name):
    response = get(client, name)
    assert b"secret" not in response.content
    assert b"hunter2" not in response.content
    assert b"Traceback" not in response.content


def test_500_logs_traceback_with_the_request_id_of_the_body(client, caplog):
    with caplog.at_level(logging.ERROR, logger="apierrors"):
        response = get(client, "bug")
    request_id = response.json()["request_id"]
    assert response["X-Request-ID"] == request_id
    assert len(request_id) >= 16
    (record,) = [r for r in caplog.records if r.name == "apierrors"]
    assert request_id in record.getMessage()
    assert record.exc_info[0] is RuntimeError


def test_500_echoes_a_safe_caller_request_id(client):
    response = get(client, "bug", HTTP_X_REQUEST_ID="req-abc.123")
    assert response.json()["request_id"] == "req-abc.123"
    evil = get(client, "bug", HTTP_X_REQUEST_ID="<script>x</script>")
    assert evil.json()["request_id"] != "<script>x</script>"


def test_unknown_key_is_logged_once(client, caplog):
    with caplog.at_level(logging.ERROR, logger="apierrors.catalog"):
        get(client, "unknown-key")
        get(client, "unknown-key")
    messages = [r.getMessage() for r in caplog.records if "no_such_key" in r.getMessage()]
    assert len(messages) == 1


def test_plain_django_view_500_in_api_format(client):
    client.raise_request_exception = False
    response = client.get("/api/plain-bug/", HTTP_ACCEPT="application/fhir+json")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/fhir+json"
    issue = response.json()["issue"][0]
    assert issue["code"] == "exception"
    assert issue["details"]["text"] == "Internal server error"
    assert issue["diagnostics"].startswith("request_id=")
    assert b"secret" not in response.content


def test_drf_stock_handler_still_understands_our_exceptions(settings):
    """A project not (yet) using our handler still gets the dictionary's status and text."""
    from rest_framework.views import exception_handler

    from apierrors.exceptions import APIError

    response = exception_handler(APIError("appointment_unavailable"), {})
    assert response.status_code == 422
    assert response.data == {"detail": "This appointment time is no longer available."}
