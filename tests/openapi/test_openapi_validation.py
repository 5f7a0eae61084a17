"""OpenAPI request validation: before the view runs, every part of the request is checked.

As ShipStream's API does: a 400 of type ``openapi`` whose details say which part failed
(``invalid_headers``, ``invalid_cookies``, ``invalid_body``, ``invalid_query_args``,
``invalid_path_args``) and why; missing credentials for the security scheme answer 401 with
the challenge, as the view itself would.
"""

import pytest

pytest.importorskip("openapi_core")
pytest.importorskip("drf_spectacular")

from django.test import override_settings

from apierrors.openapi import validation as openapi
from testproject.clinic.demo_data import DEMO_TOKEN

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.openapi.openapi_urls")]

MESSAGE = "The request does not match the API's OpenAPI specification."
VALID = {
    "path": "/api/v1/shipstream/reports/2024-05-01/",
    "query": {"limit": "10"},
    "headers": {"HTTP_X_REPORT_VERSION": "2"},
    "body": {"title": "Monthly", "pages": 3},
}


@pytest.fixture(autouse=True)
def fresh_schema():
    openapi.forget_schemas()  # each URLconf's schema is built once per process
    yield
    openapi.forget_schemas()


def post(
    client,
    *,
    path=None,
    query=None,
    headers=None,
    body=None,
    cookies=None,
    token=DEMO_TOKEN,
    **extra,
):
    path = path or VALID["path"]
    query = VALID["query"] if query is None else query
    headers = VALID["headers"] if headers is None else headers
    body = VALID["body"] if body is None else body
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    if cookies:
        for name, value in cookies.items():
            client.cookies[name] = value
    if token:
        headers = {**headers, "HTTP_AUTHORIZATION": f"Bearer {token}"}
    return client.post(path, body, format="json", **headers, **extra)


def shipstream_details(response) -> list[dict]:
    assert response.status_code == 400, response.content
    assert response["X-Error-Key"] == "openapi_validation"
    (error,) = response.json()["errors"]
    assert (error["type"], error["error_code"], error["message"]) == ("openapi", 4, MESSAGE)
    return error["details"]


def test_valid_request_reaches_the_view(api_client_factory):
    response = post(api_client_factory())
    assert response.status_code == 200
    assert response.json() == {"title": "Monthly", "pages": 3}


def test_missing_query_parameter(api_client_factory):
    details = shipstream_details(post(api_client_factory(), query={}))
    assert details == [
        {"key": "invalid_query_args", "message": "Missing required query parameter 'limit'."}
    ]


def test_wrong_query_parameter_type(api_client_factory):
    details = shipstream_details(post(api_client_factory(), query={"limit": "ten"}))
    assert details == [
        {
            "key": "invalid_query_args",
            "message": "Invalid query parameter 'limit': 'ten' is not of type 'integer'",
        }
    ]


def test_header(api_client_factory):
    details = shipstream_details(post(api_client_factory(), headers={}))
    assert details == [
        {
            "key": "invalid_headers",
            "message": "Missing required header parameter 'X-Report-Version'.",
        }
    ]
    details = shipstream_details(
        post(api_client_factory(), headers={"HTTP_X_REPORT_VERSION": "two"})
    )
    assert [d["key"] for d in details] == ["invalid_headers"]
    assert "'X-Report-Version'" in details[0]["message"]


def test_cookie(api_client_factory):
    details = shipstream_details(post(api_client_factory(), cookies={"units": "furlongs"}))
    assert details == [
        {
            "key": "invalid_cookies",
            "message": "Invalid cookie parameter 'units': 'furlongs' is not one of "
            "['imperial', 'metric']",
        }
    ]


def test_path(api_client_factory):
    details = shipstream_details(
        post(api_client_factory(), path="/api/v1/shipstream/reports/yesterday/")
    )
    assert [d["key"] for d in details] == ["invalid_path_args"]
    assert details[0]["message"].startswith("Invalid path parameter 'day':")


def test_body_names_each_failing_field(api_client_factory):
    details = shipstream_details(post(api_client_factory(), body={"title": "x" * 30, "pages": 0}))
    assert sorted(d["message"] for d in details) == [
        "pages: 0 is less than the minimum of 1",
        f"title: '{'x' * 30}' is too long",
    ]
    assert {d["key"] for d in details} == {"invalid_body"}
    details = shipstream_details(post(api_client_factory(), body={"pages": 2}))
    assert details == [{"key": "invalid_body", "message": "'title' is a required property"}]


def test_several_parts_fail_at_once(api_client_factory):
    details = shipstream_details(
        post(api_client_factory(), query={}, headers={}, body={"title": "ok"})
    )
    assert {d["key"] for d in details} == {"invalid_query_args", "invalid_headers", "invalid_body"}


def test_security_scheme_missing_is_401_with_challenge(api_client_factory):
    response = post(api_client_factory(), token=None)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {
        "errors": [
            {"type": "authentication_failed", "error_code": 5, "message": "Authentication failed"}
        ]
    }


def test_wrong_token_passes_the_scheme_check_and_the_view_refuses_it(api_client_factory):
    response = post(api_client_factory(), token="wrong")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'


def test_unparseable_body_is_left_to_drf_parse_error(api_client_factory):
    client = api_client_factory()
    response = client.post(
        VALID["path"] + "?limit=1",
        b'{"title": ',
        content_type="application/json",
        HTTP_X_REPORT_VERSION="1",
        HTTP_AUTHORIZATION=f"Bearer {DEMO_TOKEN}",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["type"] == "parse_error"


def test_problem_json_carries_the_same_details(api_client_factory):
    response = post(
        api_client_factory(),
        path="/api/v1/reports/2024-05-01/",
        query={},
        HTTP_ACCEPT="application/problem+json",
    )
    assert response.status_code == 400
    body = response.json()
    assert (body["key"], body["error_code"], body["detail"]) == ("openapi_validation", 4, MESSAGE)
    assert body["errors"] == [
        {
            "pointer": "#/invalid_query_args",
            "code": "required",
            "detail": "Missing required query parameter 'limit'.",
        }
    ]


def test_fhir_carries_the_same_details(api_client_factory):
    response = post(api_client_factory(), path="/api/v1/reports/2024-05-01/", query={})
    assert response.status_code == 400
    assert response.json()["issue"] == [
        {"severity": "error", "code": "invalid", "details": {"text": MESSAGE}},
        {
            "severity": "error",
            "code": "required",
            "expression": ["invalid_query_args"],
            "details": {"text": "Missing required query parameter 'limit'."},
        },
    ]


def test_views_not_opted_in_are_not_validated(api_client_factory):
    response = post(
        api_client_factory(),
        path="/api/v1/unchecked/reports/2024-05-01/",
        query={},
        headers={},
        body={"title": "ok"},
        HTTP_ACCEPT="application/problem+json",
    )
    # DRF's own validation answers: the body's missing field, not the query or header.
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_request"
    assert [e["pointer"] for e in response.json()["errors"]] == ["#/pages"]


def test_setting_turns_validation_on_for_every_api_view(api_client_factory):
    with override_settings(APIERRORS={"OPENAPI_VALIDATION": True}):
        response = post(
            api_client_factory(),
            path="/api/v1/unchecked/reports/2024-05-01/",
            query={},
            HTTP_ACCEPT="application/problem+json",
        )
    assert response.status_code == 400
    assert response.json()["key"] == "openapi_validation"


def test_paths_the_schema_does_not_describe_are_left_alone(api_client_factory):
    with override_settings(APIERRORS={"OPENAPI_VALIDATION": True}):
        response = api_client_factory().get(
            "/api/v1/no-such-thing/", HTTP_AUTHORIZATION=f"Bearer {DEMO_TOKEN}"
        )
    assert response.status_code == 404
    assert response["X-Error-Key"] == "not_found"


def test_schema_from_a_file(api_client_factory, tmp_path, settings):
    schema_file = tmp_path / "openapi.yaml"
    schema_file.write_text(
        "openapi: 3.0.3\n"
        "info: {title: t, version: '1'}\n"
        "paths:\n"
        "  /api/v1/reports/{day}/:\n"
        "    post:\n"
        "      parameters:\n"
        "        - {name: day, in: path, required: true, schema: {type: string}}\n"
        "        - {name: limit, in: query, required: true, schema: {type: integer, maximum: 5}}\n"
        "      responses: {'200': {description: ok}}\n"
    )
    settings.APIERRORS = {**settings.APIERRORS, "OPENAPI_SCHEMA": str(schema_file)}
    response = post(
        api_client_factory(),
        path="/api/v1/reports/2024-05-01/",
        query={"limit": "9"},
        HTTP_ACCEPT="application/problem+json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == (
        "Invalid query parameter 'limit': 9 is greater than the maximum of 5"
    )


def test_demo_with_validation_switched_on(api_client_factory, settings):
    # The demo's own switch (APIERRORS_OPENAPI_VALIDATION=1 sets this setting).
    settings.APIERRORS = {**settings.APIERRORS, "OPENAPI_VALIDATION": True}
    response = api_client_factory().post(
        "/api/v1/shipstream/appointments/",
        {"slot": "x"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {DEMO_TOKEN}",
    )
    details = shipstream_details(response)
    assert details == [
        {"key": "invalid_body", "message": "slot: 'x' is not of type 'integer'"},
        {"key": "invalid_body", "message": "'patient' is a required property"},
    ]


@pytest.fixture
def api_client_factory(demo):
    from rest_framework.test import APIClient

    return APIClient
