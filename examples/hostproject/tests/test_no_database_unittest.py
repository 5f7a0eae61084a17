"""API errors in SimpleTestCase and URLPatternsTestCase: no database at all."""

from apierrors.testing import assert_error_response, override_error
from django.test import SimpleTestCase
from django.urls import path
from rest_framework.test import APIClient, URLPatternsTestCase

from library.views import IsbnCheckView


@override_error("not_found", message="Nothing is published at this address.")
class ErrorsWithoutDatabaseTests(SimpleTestCase):
    def test_an_unknown_url_under_the_api_is_a_fhir_404(self):
        response = self.client.get("/api/no-such-thing/")
        exc = assert_error_response(response, 404, key="not_found", error_code=9)
        self.assertEqual(exc.message, "Nothing is published at this address.")
        self.assertEqual(response.json()["resourceType"], "OperationOutcome")

    def test_a_method_the_view_lacks_is_405(self):
        response = self.client.get("/api/isbn-check/")
        assert_error_response(response, 405, key="method_not_allowed", error_code=10)
        self.assertIn("POST", response["Allow"])

    def test_a_bad_isbn_is_400(self):
        response = self.client.post(
            "/api/isbn-check/", {"isbn": "978-0-14-303943-4"}, content_type="application/json"
        )
        exc = assert_error_response(response, 400, key="invalid_request")
        self.assertEqual(exc.details, [("isbn", "The ISBN's check digit is wrong.")])

    def test_the_status_can_be_changed_for_a_block(self):
        with override_error("invalid_request", status=422):
            response = self.client.post(
                "/api/isbn-check/", {"isbn": "x"}, content_type="application/json"
            )
        assert_error_response(response, 422, key="invalid_request")
        response = self.client.post(
            "/api/isbn-check/", {"isbn": "x"}, content_type="application/json"
        )
        assert_error_response(response, 400, key="invalid_request")

    def test_a_good_isbn_is_normalised(self):
        response = self.client.post(
            "/api/isbn-check/", {"isbn": "978-0-14-303943-3"}, content_type="application/json"
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"isbn": "9780143039433"})


class IsbnCheckOnItsOwnTests(URLPatternsTestCase):
    urlpatterns = [path("api/isbn-check/", IsbnCheckView.as_view())]

    def test_a_bad_isbn_is_400(self):
        response = APIClient().post("/api/isbn-check/", {"isbn": "12"}, format="json")
        exc = assert_error_response(response, 400, key="invalid_request", error_code=2)
        self.assertEqual(exc.details, [("isbn", "An ISBN-13 has 13 digits.")])

    def test_a_bad_isbn_in_problem_json(self):
        response = APIClient().post(
            "/api/isbn-check/",
            {"isbn": "12"},
            format="json",
            HTTP_ACCEPT="application/problem+json",
        )
        assert_error_response(response, 400, key="invalid_request", error_code=2)
        body = response.json()
        self.assertEqual((body["status"], body["key"]), (400, "invalid_request"))

    def test_put_is_405(self):
        response = APIClient().put("/api/isbn-check/", {"isbn": "12"}, format="json")
        assert_error_response(response, 405, key="method_not_allowed")
