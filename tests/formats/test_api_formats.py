"""The demo clinic API's natural failures, in each of the four formats: status, headers, body."""

import pytest

from testproject.clinic.demo_data import DEMO_PATIENT_ID, OTHER_PRACTICE_PATIENT_ID

from ..factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db

UNKNOWN_ID = "a47c7b0ebbb442cdbc4adf259d148ea1"
FHIR = "application/fhir+json"
PROBLEM = "application/problem+json"


def fhir_body(code: str, text: str) -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "details": {"text": text}}],
    }


# -- the seeds' FHIR examples, exactly -------------------------------------------------------


def test_unknown_patient_is_404_naming_resource_and_id(client_north):
    response = client_north.get(f"/api/v1/patients/{UNKNOWN_ID}/")
    assert response.status_code == 404
    assert response["Content-Type"] == FHIR
    assert response.json() == fhir_body("not-found", f"Unknown Patient resource '{UNKNOWN_ID}'")
    assert response["X-Error-Code"] == "8"
    assert response["X-Error-Key"] == "unknown_resource"


def test_missing_token_is_401_with_bearer_challenge(anon_client, demo):
    response = anon_client.get("/api/v1/patients/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == fhir_body("unknown", "Authentication failed")


def test_invalid_token_is_401(anon_client, demo):
    response = anon_client.get("/api/v1/patients/", HTTP_AUTHORIZATION="Bearer wrong")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json() == fhir_body("unknown", "Authentication failed")


def test_other_practices_patient_is_403(client_north):
    response = client_north.get(f"/api/v1/patients/{OTHER_PRACTICE_PATIENT_ID}/")
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response
    assert response.json() == fhir_body("forbidden", "Authorization failed")


def test_taken_slot_is_422_appointment_unavailable(client_north, demo):
    booked = AppointmentFactory(
        patient_id=DEMO_PATIENT_ID, slot=SlotFactory(practitioner__practice__name="North")
    )
    response = client_north.post(
        "/api/v1/appointments/",
        {"slot": booked.slot_id, "patient": str(DEMO_PATIENT_ID)},
        format="json",
    )
    assert response.status_code == 422
    assert response.json() == fhir_body(
        "business-rule", "This appointment time is no longer available."
    )
    assert response["X-Error-Code"] == "1"


def test_free_slot_books(client_north, demo):
    slot = SlotFactory()
    response = client_north.post(
        "/api/v1/appointments/", {"slot": slot.pk, "patient": str(DEMO_PATIENT_ID)}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["slot"] == slot.pk


def test_malformed_json_is_400_parse_error(client_north):
    response = client_north.post(
        "/api/v1/patients/", data=b'{"name": ', content_type="application/json"
    )
    assert response.status_code == 400
    summary, parser_says = response.json()["issue"]
    assert summary["code"] == "structure"
    assert summary["details"]["text"] == "The request body could not be parsed."
    assert "expression" not in parser_says
    assert parser_says["details"]["text"].startswith("JSON parse error")
    assert response["X-Error-Key"] == "parse_error"


def test_duplicate_identifier_is_409(client_north):
    response = client_north.post(
        "/api/v1/patients/", {"identifier": "NC-0001", "name": "Twin"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["issue"][0]["code"] in ("conflict", "duplicate")
    assert response["X-Error-Key"] in ("conflict", "duplicate")


def test_validation_error_has_one_issue_per_field_with_expression(client_north):
    response = client_north.post("/api/v1/patients/", {"email": "not-an-email"}, format="json")
    assert response.status_code == 400
    summary, *issues = response.json()["issue"]
    # The entry's (admin-edited) message leads, without expression; then one issue per field.
    assert summary == {
        "severity": "error",
        "code": "invalid",
        "details": {"text": "The request was malformed or failed validation."},
    }
    assert {(i["expression"][0], i["code"]) for i in issues} == {
        ("identifier", "required"),
        ("name", "required"),
        ("email", "invalid"),
    }
    assert all(i["severity"] == "error" and i["details"]["text"] for i in issues)


def test_list_errors_name_the_item(client_north):
    response = client_north.post(
        "/api/v1/patients/import/",
        {
            "items": [
                {"identifier": "N-1", "name": "Ok"},
                {"identifier": "N-2", "name": "Bad", "email": "nope"},
                {"identifier": "N-3"},
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    paths = [i["expression"][0] for i in response.json()["issue"][1:]]
    assert paths == ["items.1.email", "items.2.name"]


def test_unknown_url_under_api_answers_in_format(client_north):
    response = client_north.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == FHIR
    assert response.json() == fhir_body("not-found", "The requested resource doesn't exist.")


def test_unknown_url_elsewhere_stays_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_method_not_allowed_has_allow(client_north):
    response = client_north.delete("/api/v1/practitioners/")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert response.json() == fhir_body(
        "not-supported", 'Method "DELETE" is not supported by this endpoint.'
    )


# -- format chosen per request (Accept) ------------------------------------------------------


def test_problem_json_by_accept(client_north):
    response = client_north.get(f"/api/v1/patients/{UNKNOWN_ID}/", HTTP_ACCEPT=PROBLEM)
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json() == {
        "type": "http://testserver/errors/unknown_resource/",
        "title": "Unknown resource",
        "status": 404,
        "detail": f"Unknown Patient resource '{UNKNOWN_ID}'",
        "instance": f"/api/v1/patients/{UNKNOWN_ID}/",
        "error_code": 8,
        "key": "unknown_resource",
        "errors": [],
    }


def test_problem_json_validation_errors_have_pointers(client_north):
    response = client_north.post(
        "/api/v1/patients/import/",
        {"items": [{"identifier": "N-9", "name": "x", "email": "bad"}]},
        format="json",
        HTTP_ACCEPT=PROBLEM,
    )
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "The request was malformed or failed validation."
    assert body["errors"] == [
        {"pointer": "#/items/0/email", "detail": "Enter a valid email address.", "code": "invalid"}
    ]


def test_accepting_problem_json_does_not_make_success_406(client_north):
    response = client_north.get(f"/api/v1/patients/{DEMO_PATIENT_ID}/", HTTP_ACCEPT=PROBLEM)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_fhir_by_accept_overrides_project_default(client_north, settings):
    settings.APIERRORS = {"DEFAULT_FORMAT": "problem"}
    response = client_north.get(f"/api/v1/patients/{UNKNOWN_ID}/", HTTP_ACCEPT=FHIR)
    assert response["Content-Type"] == FHIR
    plain = client_north.get(f"/api/v1/patients/{UNKNOWN_ID}/")
    assert plain["Content-Type"] == PROBLEM


# -- format chosen per view (error_format) ---------------------------------------------------


def test_docplanner_booking_callback(client_north, demo):
    booked = AppointmentFactory(patient_id=DEMO_PATIENT_ID)
    response = client_north.post(
        "/api/v1/docplanner/bookings/",
        {"slot": booked.slot_id, "patient": str(DEMO_PATIENT_ID)},
        format="json",
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/json"
    assert response.content == b'{"error_code":1}'


def test_view_format_beats_accept(client_north, demo):
    booked = AppointmentFactory(patient_id=DEMO_PATIENT_ID)
    response = client_north.post(
        "/api/v1/docplanner/bookings/",
        {"slot": booked.slot_id, "patient": str(DEMO_PATIENT_ID)},
        format="json",
        HTTP_ACCEPT=PROBLEM,
    )
    assert response.json() == {"error_code": 1}


def test_shipstream_envelope(client_north, demo):
    booked = AppointmentFactory(patient_id=DEMO_PATIENT_ID)
    response = client_north.post(
        "/api/v1/shipstream/appointments/",
        {"slot": booked.slot_id, "patient": str(DEMO_PATIENT_ID)},
        format="json",
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "errors": [
            {
                "type": "appointment_unavailable",
                "error_code": 1,
                "message": "This appointment time is no longer available.",
            }
        ]
    }


def test_shipstream_details(client_north):
    response = client_north.post("/api/v1/shipstream/appointments/", {"slot": "x"}, format="json")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["type"] == "invalid_request"
    assert error["message"] == "The request was malformed or failed validation."
    assert {d["key"] for d in error["details"]} == {"slot", "patient"}


# -- format chosen per project ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("fhir", FHIR),
        ("docplanner", "application/json"),
        ("shipstream", "application/json"),
        ("problem", PROBLEM),
    ],
)
def test_project_default_format(client_north, settings, name, content_type):
    settings.APIERRORS = {"DEFAULT_FORMAT": name}
    response = client_north.get(f"/api/v1/patients/{UNKNOWN_ID}/")
    assert response.status_code == 404
    assert response["Content-Type"] == content_type
    body = response.json()
    expected_message = f"Unknown Patient resource '{UNKNOWN_ID}'"
    if name == "fhir":
        assert body["issue"][0]["details"]["text"] == expected_message
    elif name == "docplanner":
        assert body == {"error_code": 8}
    elif name == "shipstream":
        assert body["errors"][0]["message"] == expected_message
    else:
        assert body["detail"] == expected_message


def test_patient_of_own_practice_is_visible(client_north):
    response = client_north.get(f"/api/v1/patients/{DEMO_PATIENT_ID}/")
    assert response.status_code == 200
    assert response.json()["name"] == "Ada Lovelace"
