"""The API with Django's TestCase, on the default database only."""

from apierrors.testing import assert_error_response, override_error
from django.contrib.auth.models import User
from django.core import mail
from django.test import TestCase
from rest_framework.test import APIClient

from library.models import Author, Book

from .isbns import DISPOSSESSED, EARTHSEA

PROBLEM_JSON = "application/problem+json"


class BookApiTests(TestCase):
    databases = {"default"}
    client_class = APIClient

    @classmethod
    def setUpTestData(cls):
        cls.user = User.objects.create_user("clerk")
        cls.author = Author.objects.create(name="Ursula K. Le Guin")
        cls.book = Book.objects.create(
            title="The Dispossessed", isbn=DISPOSSESSED, author=cls.author, in_stock=3
        )

    def setUp(self):
        self.client.force_authenticate(self.user)

    def new_book(self, **changes):
        return {
            "title": "A Wizard of Earthsea",
            "isbn": EARTHSEA,
            "author": self.author.id,
            "in_stock": 2,
            **changes,
        }

    def test_lists_books(self):
        response = self.client.get("/api/books/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual([b["title"] for b in response.json()], ["The Dispossessed"])

    def test_adds_a_book_and_tells_the_stock_team(self):
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            response = self.client.post("/api/books/", self.new_book(), format="json")
        self.assertEqual(response.status_code, 201)
        self.assertTrue(Book.objects.filter(isbn=EARTHSEA).exists())
        self.assertEqual(len(callbacks), 1)
        self.assertEqual(mail.outbox[0].subject, "New book: A Wizard of Earthsea")

    def test_a_bad_isbn_is_400_and_adds_nothing(self):
        with self.captureOnCommitCallbacks(execute=True) as callbacks:
            response = self.client.post(
                "/api/books/", self.new_book(isbn="9780143039434"), format="json"
            )
        exc = assert_error_response(response, 400, key="invalid_request", error_code=2)
        self.assertEqual(exc.details, [("isbn", "The ISBN's check digit is wrong.")])
        self.assertFalse(Book.objects.filter(title="A Wizard of Earthsea").exists())
        self.assertEqual(callbacks, [])

    def test_a_taken_isbn_is_400(self):
        response = self.client.post("/api/books/", self.new_book(isbn=DISPOSSESSED), format="json")
        exc = assert_error_response(response, 400, key="invalid_request")
        self.assertEqual([path for path, _ in exc.details], ["isbn"])

    def test_an_unknown_book_is_404(self):
        response = self.client.get("/api/books/999/")
        exc = assert_error_response(response, 404, key="unknown_resource", error_code=8)
        self.assertEqual(exc.message, "Unknown Book resource '999'")
        self.assertEqual(response["Content-Type"], "application/fhir+json")

    @override_error("unknown_resource", message="We have no book {id}.")
    def test_the_404_text_can_be_changed_for_a_test(self):
        exc = assert_error_response(self.client.get("/api/books/999/"), 404)
        self.assertEqual(exc.message, "We have no book 999.")

    def test_a_client_may_ask_for_problem_json(self):
        response = self.client.get("/api/books/999/", HTTP_ACCEPT=PROBLEM_JSON)
        assert_error_response(response, 404, key="unknown_resource")
        self.assertEqual(response["Content-Type"], PROBLEM_JSON)
        self.assertEqual(response.json()["status"], 404)

    def test_the_partner_gets_docplanner_codes(self):
        response = self.client.get("/api/partner/books/999/")
        assert_error_response(response, 404, key="unknown_resource", error_code=8)
        self.assertEqual(response.json(), {"error_code": 8})

    def test_an_author_with_books_cannot_be_deleted(self):
        response = self.client.delete(f"/api/authors/{self.author.id}/")
        assert_error_response(response, 409, key="protected")
        self.assertTrue(Author.objects.filter(id=self.author.id).exists())

    def test_without_credentials_it_is_401(self):
        response = APIClient().get("/api/books/")
        assert_error_response(response, 401, key="authentication_failed", error_code=5)
        self.assertIn("WWW-Authenticate", response)
