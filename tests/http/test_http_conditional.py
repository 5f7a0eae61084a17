"""Conditional requests on the demo's patients: ETag, If-Match → 412/428, If-None-Match → 304."""

import pytest

from apierrors.http.conditional import parse_etags, strong_match, weak_match
from testproject.clinic.demo_data import DEMO_PATIENT_ID
from testproject.clinic.models import Patient
from testproject.clinic.views import PatientViewSet

pytestmark = pytest.mark.django_db

URL = f"/api/v1/patients/{DEMO_PATIENT_ID}/"
SEED_412 = {
    "resourceType": "OperationOutcome",
    "issue": [
        {
            "severity": "error",
            "code": "conflict",
            "details": {
                "text": "The resource has been modified since the precondition was specified."
            },
        }
    ],
}


def current_etag(client) -> str:
    response = client.get(URL)
    assert response.status_code == 200
    return response["ETag"]


def test_detail_response_has_a_strong_etag(client_north):
    etag = current_etag(client_north)
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert current_etag(client_north) == etag  # stable while nothing changes


def test_list_has_no_etag(client_north):
    assert "ETag" not in client_north.get("/api/v1/patients/")


def test_if_none_match_current_is_304_without_body(client_north):
    etag = current_etag(client_north)
    response = client_north.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    # A weak form of the same tag and a list containing it match too (weak comparison).
    assert client_north.get(URL, HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304


def test_if_none_match_stale_is_200(client_north):
    response = client_north.get(URL, HTTP_IF_NONE_MATCH='"stale"')
    assert response.status_code == 200
    assert response.json()["id"] == str(DEMO_PATIENT_ID)


def test_if_match_current_updates_and_returns_the_new_etag(client_north):
    etag = current_etag(client_north)
    response = client_north.patch(URL, {"name": "Ada King"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert response["ETag"] == current_etag(client_north)
    assert Patient.objects.get(pk=DEMO_PATIENT_ID).name == "Ada King"


def test_stale_if_match_is_412_with_the_seed_text_and_changes_nothing(client_north):
    stale = current_etag(client_north)
    assert (
        client_north.patch(URL, {"name": "First"}, format="json", HTTP_IF_MATCH=stale).status_code
        == 200
    )
    response = client_north.patch(URL, {"name": "Second"}, format="json", HTTP_IF_MATCH=stale)
    assert response.status_code == 412
    assert response.json() == SEED_412
    assert response["X-Error-Key"] == "precondition_failed"
    assert response["X-Error-Code"] == "16"
    assert Patient.objects.get(pk=DEMO_PATIENT_ID).name == "First"


@pytest.mark.parametrize("method", ["put", "delete"])
def test_stale_if_match_on_put_and_delete_is_412(client_north, method):
    data = {"identifier": "NC-0001", "name": "Ada"} if method == "put" else None
    response = getattr(client_north, method)(URL, data, format="json", HTTP_IF_MATCH='"stale"')
    assert response.status_code == 412
    assert Patient.objects.filter(pk=DEMO_PATIENT_ID).exists()


def test_precondition_is_checked_before_validation(client_north):
    # A stale tag with an invalid body: the precondition answers first (RFC 9110 §13.2.2).
    response = client_north.patch(
        URL, {"email": "not-an-email"}, format="json", HTTP_IF_MATCH='"stale"'
    )
    assert response.status_code == 412


def test_weak_tag_never_satisfies_if_match(client_north):
    etag = current_etag(client_north)
    response = client_north.patch(URL, {"name": "X"}, format="json", HTTP_IF_MATCH=f"W/{etag}")
    assert response.status_code == 412


def test_if_match_star_matches_an_existing_resource(client_north):
    response = client_north.patch(URL, {"name": "Star"}, format="json", HTTP_IF_MATCH="*")
    assert response.status_code == 200


def test_without_if_match_writes_are_unconditional_by_default(client_north):
    assert client_north.patch(URL, {"name": "Free"}, format="json").status_code == 200


def test_required_if_match_missing_is_428(client_north, settings):
    settings.APIERRORS = {**settings.APIERRORS, "REQUIRE_IF_MATCH": True}
    response = client_north.patch(
        URL, {"name": "X"}, format="json", HTTP_ACCEPT="application/problem+json"
    )
    assert response.status_code == 428
    body = response.json()
    assert body["key"] == "precondition_required"
    assert body["detail"] == (
        "This request must be conditional: send If-Match with the resource's ETag."
    )
    # With the tag it goes through.
    etag = current_etag(client_north)
    assert (
        client_north.patch(URL, {"name": "X"}, format="json", HTTP_IF_MATCH=etag).status_code == 200
    )


def test_view_attribute_beats_the_setting(client_north, settings, monkeypatch):
    settings.APIERRORS = {**settings.APIERRORS, "REQUIRE_IF_MATCH": True}
    monkeypatch.setattr(PatientViewSet, "require_if_match", False)
    assert client_north.patch(URL, {"name": "X"}, format="json").status_code == 200


def test_delete_with_current_tag_reaches_the_delete(client_north):
    etag = current_etag(client_north)
    response = client_north.delete(URL, HTTP_IF_MATCH=etag)
    # The demo patient has an appointment: the delete itself is refused, not the precondition.
    assert response.status_code == 409
    assert response["X-Error-Key"] == "protected"


def test_created_patient_has_an_etag_usable_for_the_next_write(client_north):
    response = client_north.post(
        "/api/v1/patients/", {"identifier": "NC-7", "name": "New"}, format="json"
    )
    assert response.status_code == 201
    url = f"/api/v1/patients/{response.json()['id']}/"
    patched = client_north.patch(
        url, {"name": "Newer"}, format="json", HTTP_IF_MATCH=response["ETag"]
    )
    assert patched.status_code == 200


@pytest.mark.parametrize(
    ("header", "tags"),
    [
        ('"a"', ['"a"']),
        ('"a", W/"b" ,"c,d"', ['"a"', 'W/"b"', '"c,d"']),
        ("*", ["*"]),
        ('garbage, "x"', ['"x"']),
        ('"unterminated', []),
        ("", []),
    ],
)
def test_parse_etags(header, tags):
    assert parse_etags(header) == tags


def test_comparisons():
    assert strong_match(['"a"'], '"a"') and not strong_match(['W/"a"'], '"a"')
    assert weak_match(['W/"a"'], '"a"') and not weak_match(['"b"'], '"a"')
    assert strong_match(["*"], '"a"') and weak_match(["*"], '"a"')
