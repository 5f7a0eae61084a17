"""Every body is valid for its standard: FHIR R4 OperationOutcome and RFC 9457 problem+json."""

from urllib.parse import urlparse

import jsonschema
import pytest

from apierrors.models import FHIR_ISSUE_TYPES, FHIR_SEVERITIES

from ..handling.raising.urls import RAISERS

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.handling.raising.urls")]

FHIR_STRING = {"type": "string", "pattern": r"^[ \r\n\t\S]+$"}  # R4 "string": non-empty

# OperationOutcome as the FHIR R4 JSON schema (fhir.schema.json) defines it: resourceType,
# issue 1..*, severity and code bound (required) to their value sets; no unknown properties.
OPERATION_OUTCOME_R4 = {
    "type": "object",
    "required": ["resourceType", "issue"],
    "additionalProperties": False,
    "properties": {
        "resourceType": {"const": "OperationOutcome"},
        "id": {"type": "string", "pattern": r"^[A-Za-z0-9\-\.]{1,64}$"},
        "issue": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "additionalProperties": False,
                "properties": {
                    "severity": {"enum": list(FHIR_SEVERITIES)},
                    "code": {"enum": list(FHIR_ISSUE_TYPES)},
                    "details": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {"text": FHIR_STRING},
                    },
                    "diagnostics": FHIR_STRING,
                    "expression": {"type": "array", "items": FHIR_STRING},
                    "location": {"type": "array", "items": FHIR_STRING},
                },
            },
        },
    },
}

# RFC 9457 Appendix A, plus the extension members apierrors documents.
PROBLEM_RFC9457 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "status": {"type": "integer", "minimum": 100, "maximum": 599},
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "format": "uri-reference"},
        "error_code": {"type": "integer"},
        "key": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["pointer", "detail"],
                "properties": {
                    "pointer": {"type": "string", "pattern": "^#(/.*)?$"},
                    "detail": {"type": "string"},
                    "code": {"type": ["string", "null"]},
                },
            },
        },
    },
    "required": ["type", "title", "status", "detail", "error_code", "errors"],
}

SHIPSTREAM = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["type", "message"],
                "properties": {
                    "type": {"type": "string"},
                    "message": {"type": "string", "minLength": 1},
                    "details": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["key", "message"],
                            "properties": {
                                "key": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        },
                    },
                },
            },
        }
    },
}


def fetch(client, settings, name: str, fmt: str):
    settings.APIERRORS = {"DEFAULT_FORMAT": fmt}
    client.raise_request_exception = False
    return client.get(f"/api/raise/{name}/")


@pytest.mark.parametrize("name", sorted(RAISERS))
def test_fhir_bodies_are_valid_r4(client, settings, name):
    response = fetch(client, settings, name, "fhir")
    assert response["Content-Type"] == "application/fhir+json"
    jsonschema.validate(response.json(), OPERATION_OUTCOME_R4)


@pytest.mark.parametrize("name", sorted(RAISERS))
def test_problem_bodies_are_valid_rfc9457(client, settings, name):
    response = fetch(client, settings, name, "problem")
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    jsonschema.validate(body, PROBLEM_RFC9457)
    assert body["status"] == response.status_code  # RFC 9457 §3.1.3: must match
    assert urlparse(body["type"]).scheme == "http"  # resolvable: the published page
    assert body["instance"] == f"/api/raise/{name}/"


def test_problem_type_resolves_to_the_entry_page(client, settings):
    body = fetch(client, settings, "api-error", "problem").json()
    page = client.get(urlparse(body["type"]).path)
    assert page.status_code == 200
    assert "This appointment time is no longer available." in page.content.decode()


@pytest.mark.parametrize("name", sorted(RAISERS))
def test_shipstream_bodies(client, settings, name):
    response = fetch(client, settings, name, "shipstream")
    assert response["Content-Type"] == "application/json"
    jsonschema.validate(response.json(), SHIPSTREAM)


@pytest.mark.parametrize("name", sorted(RAISERS))
def test_docplanner_bodies(client, settings, name):
    response = fetch(client, settings, name, "docplanner")
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["error_code"]
    assert body["error_code"] == int(response["X-Error-Code"])
