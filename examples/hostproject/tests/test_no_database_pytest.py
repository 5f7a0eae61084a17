"""API errors in pytest tests without the django_db mark: database access is blocked."""

from apierrors.testing import assert_error_response
from rest_framework.test import APIClient


def test_an_unknown_api_url_is_404(client):
    response = client.get("/api/books/1/covers/")
    assert_error_response(response, 404, key="not_found", error_code=9)
    assert response["Content-Type"] == "application/fhir+json"


def test_books_need_credentials():
    response = APIClient().get("/api/books/")
    assert_error_response(response, 401, key="authentication_failed", error_code=5)
    assert response["WWW-Authenticate"].startswith("Token")


def test_the_401_text_can_be_changed_with_the_fixture(override_error):
    override_error("authentication_failed", message="Sign in to see the catalogue.")
    exc = assert_error_response(APIClient().get("/api/books/"), 401)
    assert exc.message == "Sign in to see the catalogue."


def test_a_bad_isbn_is_400_in_problem_json(client):
    response = client.post(
        "/api/isbn-check/",
        {"isbn": "nope"},
        content_type="application/json",
        HTTP_ACCEPT="application/problem+json",
    )
    exc = assert_error_response(response, 400, key="invalid_request", error_code=2)
    assert response["Content-Type"] == "application/problem+json"
    assert exc.details == [("isbn", "An ISBN-13 has 13 digits.")]


def test_delete_on_the_isbn_check_is_405():
    response = APIClient().delete("/api/isbn-check/")
    assert_error_response(response, 405, key="method_not_allowed", error_code=10)
