"""405, 406, 409, 413, 415, 429, 500 and 503: status, headers and body a client can act on."""

import logging
import re
from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from django.db import OperationalError, connections
from django.test import AsyncClient, Client
from rest_framework.test import APIClient

from testproject.clinic.demo_data import DEMO_PATIENT_ID, DEMO_TOKEN

from ..factories import SlotFactory
from .http_urls import SECRET

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.http.http_urls")]

PROBLEM = "application/problem+json"


def api_client(**defaults) -> APIClient:
    client = APIClient(**defaults)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {DEMO_TOKEN}")
    return client


# -- 405 / 406 / 415 ---------------------------------------------------------------------------


def test_405_lists_allowed_methods(client_north):
    response = client_north.put("/api/v1/practitioners/", {}, format="json", HTTP_ACCEPT=PROBLEM)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    body = response.json()
    assert (body["key"], body["detail"]) == (
        "method_not_allowed",
        'Method "PUT" is not supported by this endpoint.',
    )


def test_405_of_a_plain_django_view_is_in_the_format_and_keeps_allow(client):
    response = client.delete("/api/plain/", HTTP_ACCEPT=PROBLEM)
    assert response.status_code == 405
    assert response["Content-Type"] == PROBLEM
    assert set(response["Allow"].split(", ")) == {"GET", "POST", "HEAD", "OPTIONS"}
    assert response.json()["key"] == "method_not_allowed"


def test_406_is_not_supported(client_north):
    response = client_north.get("/api/v1/patients/", HTTP_ACCEPT="text/csv")
    assert response.status_code == 406
    assert response["Content-Type"] == "application/fhir+json"
    assert response.json()["issue"][0]["code"] == "not-supported"
    assert response["X-Error-Key"] == "not_acceptable"


def test_415_is_not_supported(client_north):
    response = client_north.post("/api/v1/patients/", b"<patient/>", content_type="application/xml")
    assert response.status_code == 415
    issue = response.json()["issue"][0]
    assert issue["code"] == "not-supported"
    assert issue["details"]["text"] == 'Unsupported media type "application/xml" in request.'


# -- 409 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "check"),
    [
        (
            "application/fhir+json",
            lambda b: (
                b["issue"]
                == [
                    {
                        "severity": "error",
                        "code": "duplicate",
                        "details": {
                            "text": "A resource with the same unique value already exists."
                        },
                    },
                    {
                        "severity": "error",
                        "code": "duplicate",
                        "expression": ["identifier"],
                        "details": {"text": "Patient with this Identifier already exists."},
                    },
                ]
            ),
        ),
        (
            PROBLEM,
            lambda b: (
                (b["key"], b["errors"])
                == (
                    "duplicate",
                    [
                        {
                            "pointer": "#/identifier",
                            "code": "unique",
                            "detail": "Patient with this Identifier already exists.",
                        }
                    ],
                )
            ),
        ),
    ],
)
def test_duplicate_identifier_is_409_naming_the_field(client_north, accept, check):
    # The serializer leaves uniqueness to the database: this is the constraint speaking.
    response = client_north.post(
        "/api/v1/patients/",
        {"identifier": "NC-0001", "name": "Twin"},
        format="json",
        HTTP_ACCEPT=accept,
    )
    assert response.status_code == 409
    assert response["X-Error-Key"] == "duplicate"
    assert check(response.json())


def test_duplicate_in_shipstream_and_docplanner_bodies(client_north, settings):
    settings.APIERRORS = {**settings.APIERRORS, "DEFAULT_FORMAT": "shipstream"}
    response = client_north.post(
        "/api/v1/patients/", {"identifier": "NC-0001", "name": "Twin"}, format="json"
    )
    assert response.json()["errors"][0]["details"] == [
        {"key": "identifier", "message": "Patient with this Identifier already exists."}
    ]
    settings.APIERRORS = {**settings.APIERRORS, "DEFAULT_FORMAT": "docplanner"}
    response = client_north.post(
        "/api/v1/patients/", {"identifier": "NC-0001", "name": "Twin"}, format="json"
    )
    assert (response.status_code, response.json()) == (409, {"error_code": 14})


def test_deleting_a_referenced_patient_is_409_protected(client_north):
    response = client_north.delete(f"/api/v1/patients/{DEMO_PATIENT_ID}/", HTTP_ACCEPT=PROBLEM)
    assert response.status_code == 409
    body = response.json()
    assert body["key"] == "protected"
    assert body["errors"] == [
        {"pointer": "#", "detail": "Still referenced by: appointment.", "code": None}
    ]


# -- 413 -----------------------------------------------------------------------------------


def test_body_over_the_upload_limit_is_413_before_parsing(client_north, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client_north.post(
        "/api/v1/patients/",
        {"identifier": "B-1", "name": "x" * 2000},
        format="json",
        HTTP_ACCEPT=PROBLEM,
    )
    assert response.status_code == 413
    assert response.json()["key"] == "request_too_large"


def test_multipart_fields_over_the_limit_are_413_in_a_drf_view(client_north, settings):
    # Multipart is exempt from the Content-Length check (files may be large); Django's parser
    # still refuses form fields over the limit.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client_north.post(
        "/api/v1/patients/", {"identifier": "B-2", "name": "x" * 2000}, HTTP_ACCEPT=PROBLEM
    )
    assert response.status_code == 413
    assert response.json()["key"] == "request_too_large"


def test_body_within_the_limit_is_accepted(client_north, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client_north.post(
        "/api/v1/patients/", {"identifier": "B-3", "name": "Small"}, format="json"
    )
    assert response.status_code == 201


# -- 429 -----------------------------------------------------------------------------------


def book(client, slot_id):
    return client.post(
        "/api/v1/appointments/", {"slot": slot_id, "patient": str(DEMO_PATIENT_ID)}, format="json"
    )


def test_bookings_count_down_then_429_with_retry_after(client_north, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"booking": "2/minute"},
    }
    first = book(client_north, SlotFactory().pk)
    assert first.status_code == 201
    assert first["X-Rate-Limit-Remaining"] == "1"
    second = book(client_north, SlotFactory().pk)
    assert second["X-Rate-Limit-Remaining"] == "0"
    third = book(client_north, SlotFactory().pk)
    assert third.status_code == 429
    assert third["X-Rate-Limit-Remaining"] == "0"
    assert 1 <= int(third["Retry-After"]) <= 60
    assert third.json()["issue"][0]["code"] == "throttled"
    assert third["X-Error-Key"] == "throttled"


def test_reads_are_not_throttled(client_north, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"booking": "1/minute"},
    }
    appointment = book(client_north, SlotFactory().pk).json()
    for _ in range(3):
        response = client_north.get(f"/api/v1/appointments/{appointment['id']}/")
        assert response.status_code == 200
        assert "X-Rate-Limit-Remaining" not in response


# -- 503 -----------------------------------------------------------------------------------


def test_maintenance_answers_api_paths_503_with_retry_after(client_north, settings):
    settings.APIERRORS = {**settings.APIERRORS, "MAINTENANCE": True, "MAINTENANCE_RETRY_AFTER": 600}
    response = client_north.get("/api/v1/patients/", HTTP_ACCEPT=PROBLEM)
    assert response.status_code == 503
    assert response["Retry-After"] == "600"
    body = response.json()
    assert (body["key"], body["detail"]) == (
        "maintenance",
        "The API is down for maintenance. Try again later.",
    )
    assert response["X-Request-ID"] == body["request_id"]


def test_maintenance_leaves_the_admin_usable(admin_client, settings):
    settings.APIERRORS = {**settings.APIERRORS, "MAINTENANCE": True}
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def maintenance_for_north(request):
    return request.headers.get("Authorization", "").endswith(DEMO_TOKEN)


def test_maintenance_switch_can_be_a_callable(client_north, anon_client, settings):
    settings.APIERRORS = {
        **settings.APIERRORS,
        "MAINTENANCE": "tests.http.test_http_status.maintenance_for_north",
    }
    assert client_north.get("/api/v1/patients/").status_code == 503
    assert anon_client.get("/api/v1/patients/").status_code == 401


def test_maintenance_in_the_partner_format(client_north, settings):
    settings.APIERRORS = {**settings.APIERRORS, "MAINTENANCE": True}
    response = client_north.post("/api/v1/docplanner/bookings/", {}, format="json")
    assert (response.status_code, response.json()) == (503, {"error_code": 23})


@pytest.mark.parametrize("path", ["/api/v1/patients/", "/api/plain/?count=1"])
def test_database_outage_is_503_with_retry_after(demo, path):
    # Wherever the first query fails (authentication, the view), inside DRF or in Django's
    # handler500, the answer is the same.
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {DEMO_TOKEN}")
    outage = OperationalError("could not connect to server: Connection refused")
    with mock.patch.object(connections["default"], "cursor", side_effect=outage):
        response = client.get(path, HTTP_ACCEPT=PROBLEM)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.json()
    assert body["key"] == "service_unavailable"
    assert "Connection refused" not in response.content.decode()


# -- 500 -----------------------------------------------------------------------------------


def test_500_echoes_the_callers_request_id_into_body_and_log(caplog):
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.ERROR, logger="apierrors"):
        response = client.get(
            "/api/v1/test/crash/", HTTP_X_REQUEST_ID="req-42", HTTP_ACCEPT=PROBLEM
        )
    assert response.status_code == 500
    assert response["X-Request-ID"] == "req-42"
    body = response.json()
    assert (body["key"], body["detail"], body["request_id"]) == (
        "internal_error",
        "Internal server error",
        "req-42",
    )
    assert SECRET not in response.content.decode()
    (record,) = [r for r in caplog.records if r.name == "apierrors"]
    assert "req-42" in record.getMessage()
    assert record.exc_info[0] is RuntimeError  # the traceback is logged, with the id


def test_500_without_a_request_id_generates_one(caplog):
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.ERROR, logger="apierrors"):
        response = client.get("/api/v1/test/crash/")
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert response.json()["issue"][0]["diagnostics"] == f"request_id={request_id}"
    assert any(request_id in r.getMessage() for r in caplog.records)


def test_500_shows_the_exception_only_in_debug(settings):
    settings.DEBUG = True
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/test/crash/", HTTP_ACCEPT=PROBLEM)
    assert response.status_code == 500
    assert response.json()["errors"][0]["detail"] == f"RuntimeError: {SECRET}"


def test_500_outside_drf_is_in_the_format_with_a_request_id(caplog):
    client = Client(raise_request_exception=False)
    response = client.get("/api/plain/?fail=500", HTTP_X_REQUEST_ID="plain-1", HTTP_ACCEPT=PROBLEM)
    assert response.status_code == 500
    assert response["Content-Type"] == PROBLEM
    assert response.json()["request_id"] == "plain-1"
    assert SECRET not in response.content.decode()
    assert any(
        "plain-1" in r.getMessage() and r.exc_info for r in caplog.records if r.name == "apierrors"
    )


def test_unsafe_request_id_is_replaced():
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/test/crash/", HTTP_X_REQUEST_ID="<script>")
    assert response["X-Request-ID"] != "<script>"


def test_maintenance_under_asgi(settings):
    settings.APIERRORS = {**settings.APIERRORS, "MAINTENANCE": True}
    response = async_to_sync(AsyncClient().get)("/api/v1/patients/", headers={"Accept": PROBLEM})
    assert response.status_code == 503
    assert response["Retry-After"] == "300"
    assert response.json()["key"] == "maintenance"
