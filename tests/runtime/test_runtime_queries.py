"""Once warm, rendering an error response makes no database query, in every format."""

import json
import re

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext


@pytest.fixture
def client():
    """These tests cause 5xx on purpose and read the response. Django's default test client
    would re-raise the exception behind a 5xx (apierrors sends got_request_exception, as
    Django does; see tests/handling/test_bugs_stay_visible.py)."""
    return Client(raise_request_exception=False)


pytestmark = [
    pytest.mark.urls("tests.runtime.runtime_urls"),
    pytest.mark.django_db(databases="__all__"),
]

FORMATS = ["fhir", "docplanner", "shipstream", "problem"]
# kind → (status, key, error_code, text)
CASES = {
    "not_found": (404, "not_found", 9, "The requested resource doesn't exist."),
    "unknown_patient": (404, "unknown_resource", 8, "Unknown Patient resource 'a47c'"),
    "validation": (400, "invalid_request", 2, "Ensure this field has no more than 5 characters."),
    "business": (
        422,
        "appointment_unavailable",
        1,
        "This appointment time is no longer available.",
    ),
    "unavailable": (
        503,
        "service_unavailable",
        22,
        "The service is temporarily unavailable. Try again later.",
    ),
}


def text_of(fmt: str, body: dict) -> str | None:
    """The first human-readable text of a body, as a client of each format reads it."""
    if fmt == "fhir":  # the first field's issue follows the entry's own
        return body["issue"][1 if len(body["issue"]) > 1 else 0]["details"]["text"]
    if fmt == "shipstream":
        error = body["errors"][0]
        return error["details"][0]["message"] if "details" in error else error["message"]
    if fmt == "problem":
        return body["errors"][0]["detail"] if body["errors"] else body["detail"]
    return None  # docplanner: the integer only


def assert_body(fmt: str, kind: str, response) -> None:
    status, key, error_code, text = CASES[kind]
    assert response.status_code == status
    assert response["X-Error-Key"] == key
    body = json.loads(response.content)
    if fmt == "docplanner":
        assert body == {"error_code": error_code}
    else:
        assert text_of(fmt, body) == text


@pytest.fixture
def without_transaction_middleware(settings):
    """The request minus AtomicRequestsMiddleware, whose SAVEPOINTs would be counted: what
    is left (view, DRF, the handler, the format) must not query at all."""
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "apierrors.middleware.AtomicRequestsMiddleware"
    ]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", sorted(CASES))
def test_warm_error_response_makes_no_query(
    client, without_transaction_middleware, django_assert_num_queries, fmt, kind
):
    url = f"/rt/{fmt}/{kind}/"
    assert_body(fmt, kind, client.get(url))  # a new process reads the dictionary once
    with django_assert_num_queries(0):
        response = client.get(url)
    assert_body(fmt, kind, response)


@pytest.mark.parametrize("fmt", FORMATS)
def test_warm_error_responses_of_other_kinds_make_no_query(
    client, without_transaction_middleware, django_assert_num_queries, fmt
):
    client.get(f"/rt/{fmt}/not_found/")
    # Warm means the dictionary is loaded, not that this particular entry was used before.
    with django_assert_num_queries(0):
        for kind in sorted(CASES):
            assert_body(fmt, kind, client.get(f"/rt/{fmt}/{kind}/"))


# Statements AtomicRequestsMiddleware itself may issue around a request.
TRANSACTION_CONTROL = re.compile(
    r"^(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT|BEGIN|COMMIT|ROLLBACK)\b", re.I
)


@pytest.mark.parametrize("fmt", FORMATS)
def test_with_every_middleware_only_transaction_control_reaches_the_database(client, fmt):
    url = f"/rt/{fmt}/validation/"
    client.get(url)
    with (
        CaptureQueriesContext(connections["default"]) as default,
        CaptureQueriesContext(connections["other"]) as other,
    ):
        response = client.get(url)
    assert_body(fmt, "validation", response)
    statements = [q["sql"] for q in [*default.captured_queries, *other.captured_queries]]
    assert [s for s in statements if not TRANSACTION_CONTROL.match(s)] == []
