"""Archiving moves a book from the default database to the archive database."""

from apierrors.testing import assert_error_response
from django.contrib.auth.models import User
from django.test import TestCase
from rest_framework.test import APIClient

from library.models import ArchivedBook, Author, Book

from .isbns import LEFT_HAND


class ArchiveTests(TestCase):
    databases = {"default", "archive"}
    client_class = APIClient

    @classmethod
    def setUpTestData(cls):
        cls.user = User.objects.create_user("clerk")
        author = Author.objects.create(name="Ursula K. Le Guin")
        cls.book = Book.objects.create(
            title="The Left Hand of Darkness", isbn=LEFT_HAND, author=author
        )

    def setUp(self):
        self.client.force_authenticate(self.user)

    def test_archiving_moves_the_book(self):
        response = self.client.post(f"/api/books/{self.book.id}/archive/")
        self.assertEqual(response.status_code, 201)
        self.assertFalse(Book.objects.filter(id=self.book.id).exists())
        archived = ArchivedBook.objects.get(isbn=LEFT_HAND)
        self.assertEqual(archived.author_name, "Ursula K. Le Guin")
        listed = self.client.get("/api/archive/").json()
        self.assertEqual([b["isbn"] for b in listed], [LEFT_HAND])

    def test_archiving_an_unknown_book_is_404(self):
        response = self.client.post("/api/books/999/archive/")
        assert_error_response(response, 404, key="unknown_resource")
        self.assertFalse(ArchivedBook.objects.exists())

    def test_an_unknown_archived_book_is_404(self):
        response = self.client.get("/api/archive/999/")
        exc = assert_error_response(response, 404, key="unknown_resource")
        self.assertEqual(exc.message, "Unknown ArchivedBook resource '999'")
