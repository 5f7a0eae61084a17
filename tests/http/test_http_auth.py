"""401 vs 403: a client can tell "send (other) credentials" from "you may not".

Missing or invalid credentials → 401 with an RFC 6750 ``WWW-Authenticate`` challenge, whatever
authentication class comes first; an authenticated caller without permission → 403 without
one. ``InvalidAccessToken`` (401 with the challenge) and ``Unauthorized`` (401 without it, as
canvasapi reads it) are both usable from views.
"""

import base64

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from testproject.clinic.demo_data import OTHER_PRACTICE_PATIENT_ID

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.http.http_urls")]

AUTH_FAILED = {
    "resourceType": "OperationOutcome",
    "issue": [
        {"severity": "error", "code": "unknown", "details": {"text": "Authentication failed"}}
    ],
}


def test_no_credentials_is_401_challenge_without_error_code(anon_client, demo):
    response = anon_client.get("/api/v1/patients/")
    assert response.status_code == 401
    # RFC 6750 §3.1: no error code when the request carried no credentials.
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == AUTH_FAILED
    assert response["X-Error-Key"] == "authentication_failed"


def test_wrong_token_is_401_invalid_token(anon_client, demo):
    response = anon_client.get("/api/v1/patients/", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert response.json() == AUTH_FAILED


def test_token_that_is_not_latin1_text_is_401_not_500(anon_client, demo):
    # The header arrives as bytes that are not valid UTF-8: DRF refuses the token.
    response = anon_client.get("/api/v1/patients/", HTTP_AUTHORIZATION="Bearer \xff\xfe")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_other_scheme_is_missing_bearer_credentials(anon_client, demo):
    response = anon_client.get("/api/v1/patients/", HTTP_AUTHORIZATION="Basic dXNlcjpwdw==")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_session_authentication_first_still_answers_401(anon_client, demo):
    # DRF alone would answer 403 here (SessionAuthentication offers no challenge).
    response = anon_client.get("/api/v1/test/session-first/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response["X-Error-Key"] == "authentication_failed"


def test_session_only_view_challenges_with_the_configured_realm(anon_client, settings, demo):
    settings.APIERRORS = {**settings.APIERRORS, "AUTH_REALM": "clinic"}
    response = anon_client.get("/api/v1/test/session-only/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="clinic"'


def test_basic_authentication_keeps_its_own_challenge(anon_client, demo):
    response = anon_client.get("/api/v1/test/basic-only/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="api"'
    wrong = base64.b64encode(b"north:wrong").decode()
    response = anon_client.get("/api/v1/test/basic-only/", HTTP_AUTHORIZATION=f"Basic {wrong}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="api"'  # error= is Bearer's only


def test_session_login_works_on_session_first_view(demo):
    client = APIClient()
    client.force_login(get_user_model().objects.get(username="north"))
    response = client.get("/api/v1/test/session-first/")
    assert response.status_code == 200
    assert response.json() == {"user": "north"}


def test_authenticated_without_permission_is_403_without_challenge(client_north):
    response = client_north.get(f"/api/v1/patients/{OTHER_PRACTICE_PATIENT_ID}/")
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response
    assert response.json()["issue"][0] == {
        "severity": "error",
        "code": "forbidden",
        "details": {"text": "Authorization failed"},
    }


def test_invalid_access_token_from_a_view(anon_client):
    response = anon_client.get("/api/v1/test/invalid-access-token/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert response["X-Error-Key"] == "authentication_failed"


def test_unauthorized_from_a_view_has_no_challenge(client_north):
    response = client_north.get("/api/v1/test/unauthorized/")
    assert response.status_code == 401
    assert "WWW-Authenticate" not in response
    assert response["X-Error-Key"] == "unauthorized"
    assert response.json()["issue"][0]["details"]["text"] == (
        "The credentials are valid but may not access this resource."
    )


def test_csrf_failure_of_a_session_caller_is_403_with_the_reason(demo):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.get(username="north"))
    response = client.post(
        "/api/v1/patients/",
        {"identifier": "X-1", "name": "X"},
        format="json",
        HTTP_ACCEPT="application/problem+json",
    )
    assert response.status_code == 403
    body = response.json()
    assert body["key"] == "authorization_failed"
    assert body["errors"][0]["detail"].startswith("CSRF Failed:")
