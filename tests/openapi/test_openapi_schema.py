"""Documented errors: /api/schema/ lists, per operation, the error responses it can return."""

from dataclasses import replace

import pytest

pytest.importorskip("drf_spectacular")

from openapi_spec_validator import validate

from apierrors.dictionary.catalog import Entry
from apierrors.formats import BUILTIN_FORMATS, ErrorFormat
from apierrors.handling.normalized import Detail, NormalizedError
from apierrors.models import ErrorCode

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def responses(schema: dict, path: str, method: str) -> dict:
    return schema["paths"][path][method]["responses"]


def codes(response: dict) -> list[tuple[str, int]]:
    return [(c["key"], c["error_code"]) for c in response["x-error-codes"]]


def test_the_schema_is_valid_openapi(schema):
    validate(schema)


@pytest.mark.parametrize("name", sorted(BUILTIN_FORMATS))
def test_each_format_renders_what_its_schema_documents(name):
    import jsonschema

    error_format = BUILTIN_FORMATS[name]()
    entry = Entry("duplicate", 14, 409, "Duplicate", "Taken.", "duplicate")
    details = [Detail("identifier", "Taken.", "unique")]
    error = NormalizedError(entry, "Taken.", details, request_id="r-1", instance="/p/")
    _name, body_schema = error_format.openapi_component()
    constraint = error_format.openapi_constraint([entry]) or {}
    documented = {"allOf": [body_schema, constraint]}
    body = error_format.render(error, None)
    jsonschema.validate(body, documented)
    # Where the format names the entry, the constraint tells it from another.
    other = error_format.openapi_constraint([replace(entry, key="conflict", error_code=13)])
    if other is not None:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(body, {"allOf": [body_schema, other]})


def test_create_patient_documents_its_errors(schema):
    documented = responses(schema, "/api/v1/patients/", "post")
    assert {"201", "400", "401", "403", "406", "409", "413", "415", "500", "503"} <= set(documented)
    assert codes(documented["409"]) == [("conflict", 13), ("duplicate", 14)]
    assert codes(documented["400"]) == [("invalid_request", 2), ("parse_error", 3)]
    # The body schema of the project's format (FHIR), and problem+json, chosen by Accept.
    assert documented["409"]["content"] == {
        "application/fhir+json": {"schema": {"$ref": "#/components/schemas/OperationOutcome"}},
        "application/problem+json": {
            "schema": {
                "allOf": [
                    {"$ref": "#/components/schemas/ProblemDetails"},
                    {
                        "properties": {
                            "error_code": {"type": "integer", "enum": [13, 14]},
                            "status": {"type": "integer", "enum": [409]},
                            "key": {"type": "string", "enum": ["conflict", "duplicate"]},
                        }
                    },
                ]
            }
        },
    }
    headers = documented["409"]["headers"]
    assert headers["X-Error-Code"]["schema"] == {"type": "integer", "enum": [13, 14]}
    assert headers["X-Error-Key"]["required"] is True


def test_401_documents_the_challenge_and_5xx_the_request_id(schema):
    documented = responses(schema, "/api/v1/patients/", "get")
    assert documented["401"]["headers"]["WWW-Authenticate"]["required"] is True
    assert documented["500"]["headers"]["X-Request-ID"]["required"] is True
    assert codes(documented["503"]) == [("service_unavailable", 22), ("maintenance", 23)]
    assert documented["503"]["headers"]["Retry-After"]["required"] is True


def test_conditional_patient_operations(schema):
    detail = schema["paths"]["/api/v1/patients/{id}/"]
    get = detail["get"]
    assert any(p["name"] == "If-None-Match" and p["in"] == "header" for p in get["parameters"])
    assert get["responses"]["200"]["headers"]["ETag"]["required"] is True
    assert get["responses"]["304"]["headers"]["ETag"]["required"] is True
    assert "content" not in get["responses"]["304"]
    patch = detail["patch"]
    assert any(
        p["name"] == "If-Match" and p["in"] == "header" and not p.get("required")
        for p in patch["parameters"]
    )
    assert codes(patch["responses"]["412"]) == [("precondition_failed", 16)]
    assert "428" not in patch["responses"]  # If-Match is optional on the demo
    assert codes(detail["delete"]["responses"]["409"]) == [("protected", 15)]


def test_required_if_match_documents_428(client, settings):
    settings.APIERRORS = {**settings.APIERRORS, "REQUIRE_IF_MATCH": True}
    schema = client.get("/api/schema/?format=json").json()
    patch = schema["paths"]["/api/v1/patients/{id}/"]["patch"]
    assert codes(patch["responses"]["428"]) == [("precondition_required", 17)]
    assert any(p["name"] == "If-Match" and p["required"] for p in patch["parameters"])


def test_booking_documents_its_business_rule_and_rate_limit(schema):
    documented = responses(schema, "/api/v1/appointments/", "post")
    assert codes(documented["422"]) == [("appointment_unavailable", 1)]
    assert set(documented["429"]["headers"]) >= {"Retry-After", "X-Rate-Limit-Remaining"}
    assert "X-Rate-Limit-Remaining" in documented["201"]["headers"]


def test_partner_operations_document_their_own_format_only(schema):
    docplanner = responses(schema, "/api/v1/docplanner/bookings/", "post")["422"]
    assert docplanner["content"] == {
        "application/json": {
            "schema": {
                "allOf": [
                    {"$ref": "#/components/schemas/DocplannerError"},
                    {"properties": {"error_code": {"type": "integer", "enum": [1]}}},
                ]
            }
        }
    }
    shipstream = responses(schema, "/api/v1/shipstream/appointments/", "post")
    assert list(shipstream["400"]["content"]) == ["application/json"]
    assert codes(shipstream["400"]) == [("invalid_request", 2), ("parse_error", 3)]


def test_openapi_validation_is_documented_when_it_is_on(client, settings):
    settings.APIERRORS = {**settings.APIERRORS, "OPENAPI_VALIDATION": True}
    schema = client.get("/api/schema/?format=json").json()
    assert ("openapi_validation", 4) in codes(
        responses(schema, "/api/v1/appointments/", "post")["400"]
    )
    # Even operations without a body: headers, query and path are checked too.
    assert codes(responses(schema, "/api/v1/slots/", "get")["400"]) == [("openapi_validation", 4)]


def test_read_only_operations_document_no_body_errors(schema):
    documented = responses(schema, "/api/v1/practitioners/", "get")
    assert not {"400", "409", "413", "415", "422", "429"} & set(documented)
    assert "403" not in documented  # IsAuthenticated alone: a 401, never a 403


def test_codes_come_from_the_dictionary_as_edited(client):
    ErrorCode.objects.filter(key="duplicate").update(error_code=1409)
    schema = client.get("/api/schema/?format=json").json()
    documented = responses(schema, "/api/v1/patients/", "post")["409"]
    assert codes(documented) == [("conflict", 13), ("duplicate", 1409)]


def test_unpublished_entries_are_not_listed(client):
    # The published dictionary hides internal entries; the schema, also published, must too.
    import json

    import jsonschema

    ErrorCode.objects.filter(key="duplicate").update(is_public=False)
    schema = client.get("/api/schema/?format=json").json()
    documented = responses(schema, "/api/v1/patients/", "post")["409"]
    assert codes(documented) == [("conflict", 13)]
    assert "duplicate" not in documented["description"]
    assert '"duplicate"' not in json.dumps(documented["headers"])
    assert 14 not in documented["headers"]["X-Error-Code"]["schema"].get("enum", [])
    problem = documented["content"]["application/problem+json"]["schema"]
    assert '"duplicate"' not in json.dumps(problem) and " 14" not in json.dumps(problem)
    # Still true to what the API answers: the hidden entry's 409 matches what is documented.
    jsonschema.validate("duplicate", documented["headers"]["X-Error-Key"]["schema"])
    jsonschema.validate(14, documented["headers"]["X-Error-Code"]["schema"])
    jsonschema.validate(
        {
            "type": "about:blank",
            "title": "Duplicate",
            "status": 409,
            "detail": "x",
            "error_code": 14,
            "key": "duplicate",
            "errors": [],
        },
        {**problem, "components": schema["components"]},
    )
    # A status whose entries are all published keeps its closed list.
    bad_request = responses(schema, "/api/v1/patients/", "post")["400"]
    assert bad_request["headers"]["X-Error-Code"]["schema"]["enum"] == [2, 3]


def test_schema_lists_what_the_published_dictionary_lists(client):
    ErrorCode.objects.filter(key__in=["duplicate", "maintenance"]).update(is_public=False)
    published = {e["key"] for e in client.get("/errors/dictionary.json").json()["errors"]}
    schema = client.get("/api/schema/?format=json").json()
    documented = [
        response
        for path in schema["paths"].values()
        for operation in path.values()
        for response in operation.get("responses", {}).values()
        if "x-error-codes" in response
    ]
    listed = {key for response in documented for key, _code in codes(response)}
    assert listed <= published
    assert {"duplicate", "maintenance"}.isdisjoint(listed)


# -- a project's own formats (APIERRORS["FORMATS"]), as an adopter writes them ------------


class PartnerFormat(ErrorFormat):
    """A format with a media type of its own, so ``Accept`` may choose it anywhere."""

    media_type = "application/vnd.partner.error+json"
    openapi_name = "PartnerError"
    openapi_schema = {
        "type": "object",
        "required": ["code", "text"],
        "properties": {"code": {"type": "integer"}, "text": {"type": "string"}},
    }

    def render(self, error, request):
        return {"code": error.entry.error_code, "text": error.message}

    def openapi_constraint(self, entries):
        return {"properties": {"code": {"enum": sorted(e.error_code for e in entries)}}}


class PlainFormat(ErrorFormat):
    """A format that documents nothing of its body."""

    def render(self, error, request):
        return {"failed": error.entry.key}


def with_formats(settings, **extra) -> None:
    settings.APIERRORS = {
        **settings.APIERRORS,
        "FORMATS": {
            "partner": "tests.openapi.test_openapi_schema.PartnerFormat",
            "plain": "tests.openapi.test_openapi_schema.PlainFormat",
        },
        **extra,
    }


def test_a_projects_own_format_is_documented(client, settings):
    import jsonschema

    with_formats(settings)
    schema = client.get("/api/schema/?format=json").json()
    validate(schema)
    assert schema["components"]["schemas"]["PartnerError"] == PartnerFormat.openapi_schema
    content = responses(schema, "/api/v1/patients/", "post")["409"]["content"]
    # The default format first, then every one Accept chooses by a media type of its own
    # (by name, as Accept's ties go).
    assert list(content) == [
        "application/fhir+json",
        "application/vnd.partner.error+json",
        "application/problem+json",
    ]
    documented = content["application/vnd.partner.error+json"]["schema"]
    assert documented == {
        "allOf": [
            {"$ref": "#/components/schemas/PartnerError"},
            {"properties": {"code": {"enum": [13, 14]}}},
        ]
    }
    # And it is what the API answers when a client asks for it.
    response = client.get("/api/v1/patients/", HTTP_ACCEPT=PartnerFormat.media_type)
    assert response["Content-Type"] == PartnerFormat.media_type
    body_schema = schema["components"]["schemas"]["PartnerError"]
    jsonschema.validate(response.json(), body_schema)


def test_a_format_without_a_schema_is_documented_as_any_object(client, settings):
    with_formats(settings, DEFAULT_FORMAT="plain")
    schema = client.get("/api/schema/?format=json").json()
    validate(schema)
    assert schema["components"]["schemas"]["PlainFormatBody"] == {"type": "object"}
    content = responses(schema, "/api/v1/patients/", "post")["409"]["content"]
    # No constraint (it does not say where the entry is): the component alone.
    assert content["application/json"] == {
        "schema": {"$ref": "#/components/schemas/PlainFormatBody"}
    }
    assert "application/fhir+json" in content


def test_two_bodies_under_one_component_name_are_reported(client, settings, monkeypatch):
    from apierrors.openapi import schema as schema_module

    warnings: list[str] = []
    monkeypatch.setattr(schema_module, "warn", warnings.append)
    # Taken by problem+json, whose body is another: only the first would be documented.
    monkeypatch.setattr(PartnerFormat, "openapi_name", "ProblemDetails")
    with_formats(settings)
    client.get("/api/schema/?format=json")
    assert warnings and "'ProblemDetails'" in warnings[0] and "openapi_name" in warnings[0]


class LevelledFormat(PlainFormat):
    """A schema with an enum, which drf-spectacular's enum hook lifts into a component."""

    openapi_schema = {
        "type": "object",
        "properties": {"level": {"type": "string", "enum": ["low", "high"]}},
    }


def test_a_format_schema_is_the_same_in_every_generated_schema(client, settings):
    settings.APIERRORS = {
        **settings.APIERRORS,
        "FORMATS": {"levelled": "tests.openapi.test_openapi_schema.LevelledFormat"},
        "DEFAULT_FORMAT": "levelled",
    }
    first = client.get("/api/schema/?format=json").json()
    second = client.get("/api/schema/?format=json").json()
    assert first == second  # the hook changed a copy, never the class's own schema
    assert LevelledFormat.openapi_schema["properties"]["level"]["enum"] == ["low", "high"]
