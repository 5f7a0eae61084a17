"""Errors that happen outside DRF views answer in the API's format on API paths, HTML elsewhere.

Unknown URLs, Django's handler400/403/404/500, a disallowed Host, a body over
DATA_UPLOAD_MAX_MEMORY_SIZE, bytes that are not UTF-8.
"""

import pytest
from django.test import Client

from testproject.clinic.demo_data import DEMO_TOKEN

from .http_urls import SECRET

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.http.http_urls")]

PROBLEM = "application/problem+json"
FHIR = "application/fhir+json"


@pytest.fixture
def client() -> Client:
    return Client(raise_request_exception=False)


def test_unknown_api_url_is_404_in_the_format(client):
    response = client.get("/api/v1/no-such-thing/", HTTP_ACCEPT=PROBLEM)
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert (body["key"], body["instance"]) == ("not_found", "/api/v1/no-such-thing/")


def test_unknown_url_elsewhere_is_django_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_malformed_id_of_a_partner_api_answers_in_the_partner_format(client, demo):
    # "2.5e-3" is matched by no route (DRF's lookup excludes dots): no view ran, yet the
    # enclosing Docplanner collection decides the format.
    response = client.get(
        "/api/v1/docplanner/bookings/2.5e-3/", HTTP_AUTHORIZATION=f"Bearer {DEMO_TOKEN}"
    )
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error_code": 9}


@pytest.mark.parametrize(
    ("fail", "status", "key"),
    [
        ("400", 400, "invalid_request"),  # SuspiciousOperation → handler400
        ("403", 403, "authorization_failed"),  # Django's PermissionDenied → handler403
        ("500", 500, "internal_error"),  # a crash → handler500
    ],
)
def test_django_handlers_answer_in_the_format(client, fail, status, key):
    response = client.get(f"/api/plain/?fail={fail}", HTTP_ACCEPT=PROBLEM)
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    assert response.json()["key"] == key
    assert SECRET not in response.content.decode()


def test_html_crash_stays_html(client):
    response = client.get("/html/crash/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_api_prefixes_are_configurable(client, settings):
    settings.APIERRORS = {**settings.APIERRORS, "API_PATH_PREFIXES": ["/html/"]}
    response = client.get("/html/crash/", HTTP_ACCEPT=PROBLEM)
    assert response["Content-Type"] == PROBLEM
    response = client.get("/api/v1/no-such-thing/")
    assert response["Content-Type"].startswith("text/html")


def test_disallowed_host_is_400_in_the_format(client):
    response = client.get("/api/v1/patients/", HTTP_HOST="evil.example", HTTP_ACCEPT=PROBLEM)
    assert response.status_code == 400
    body = response.json()
    assert body["key"] == "invalid_request"
    assert body["type"].startswith("/errors/")  # no absolute URL built from a refused host
    assert "evil.example" not in response.content.decode()


def test_disallowed_host_elsewhere_is_html(client):
    response = client.get("/admin/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_too_large_body_for_a_plain_view_is_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = client.post(
        "/api/plain/", b"x" * 500, content_type="text/plain", HTTP_ACCEPT=PROBLEM
    )
    assert response.status_code == 413
    assert response.json()["key"] == "request_too_large"


def test_too_large_form_for_a_plain_view_is_413_via_handler400(client, settings):
    # Multipart is left to Django's own limit, raised while parsing; handler400 formats it.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = client.post("/api/plain/", {"field": "x" * 500}, HTTP_ACCEPT=PROBLEM)
    assert response.status_code == 413
    assert response.json()["key"] == "request_too_large"


def test_invalid_utf8_json_body_is_400_parse_error(client, demo):
    response = client.post(
        "/api/v1/patients/",
        b'{"identifier": "\xff\xfe", "name": "x"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {DEMO_TOKEN}",
        HTTP_ACCEPT=PROBLEM,
    )
    assert response.status_code == 400
    body = response.json()
    assert body["key"] == "parse_error"
    assert body["errors"][0]["detail"].startswith("JSON parse error")


def test_invalid_utf8_in_path_and_query_is_not_a_500(client, demo):
    response = client.get(
        "/api/v1/patients/%FF%FE/?q=%FF",
        HTTP_AUTHORIZATION=f"Bearer {DEMO_TOKEN}",
        HTTP_ACCEPT=PROBLEM,
    )
    assert response.status_code == 404
    assert response.json()["key"] == "unknown_resource"
    response = client.get("/api/v1/%FF/", HTTP_ACCEPT=PROBLEM)
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


def test_invalid_utf8_form_body_is_decoded_with_replacement_not_a_500(client, demo):
    response = client.post(
        "/api/v1/patients/",
        b"identifier=U-%FF&name=A%FE",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Bearer {DEMO_TOKEN}",
    )
    # Django decodes form data with errors="replace": the bytes become U+FFFD, not a crash.
    assert response.status_code == 201
    assert (response.json()["identifier"], response.json()["name"]) == ("U-\ufffd", "A\ufffd")
