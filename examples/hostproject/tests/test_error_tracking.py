"""Bugs stay visible: the test client re-raises them and the error tracker records them."""

import pytest
from apierrors.testing import assert_error_response
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.test import TestCase
from rest_framework.test import APIClient

from library.models import Author, Book

from .isbns import DISPOSSESSED

pytestmark = pytest.mark.django_db


def test_the_test_client_re_raises_a_misconfiguration(api, book, tracked_errors):
    with pytest.raises(ImproperlyConfigured, match="PAYMENT_API_KEY"):
        api.post(f"/api/books/{book.id}/sell/")
    assert [(e["type"], e["path"]) for e in tracked_errors] == [
        (ImproperlyConfigured, f"/api/books/{book.id}/sell/")
    ]


def test_callers_get_a_500_without_the_exception_text(clerk, book, tracked_errors):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(clerk)
    response = client.post(f"/api/books/{book.id}/sell/")
    assert_error_response(response, 500, key="internal_error", error_code=21)
    assert "PAYMENT_API_KEY" not in response.content.decode()
    assert response["X-Request-ID"]
    assert len(tracked_errors) == 1
    book.refresh_from_db()
    assert book.in_stock == 3


def test_a_bug_reaches_the_tracker(api, author, tracked_errors):
    with pytest.raises(ZeroDivisionError):
        api.get(f"/api/authors/{author.id}/average-stock/")
    assert [e["type"] for e in tracked_errors] == [ZeroDivisionError]


def test_with_debug_propagate_exceptions_the_exception_propagates(clerk, book, settings):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = True
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(clerk)
    with pytest.raises(ImproperlyConfigured):
        client.post(f"/api/books/{book.id}/sell/")


def test_client_errors_are_not_reported(api, book, tracked_errors):
    assert_error_response(api.get("/api/books/999/"), 404)
    assert_error_response(api.post("/api/books/", {"title": ""}, format="json"), 400)
    assert_error_response(APIClient().get("/api/books/"), 401)
    assert_error_response(api.get("/api/nothing-here/"), 404)
    assert tracked_errors == []


class MisconfigurationTests(TestCase):
    databases = {"default"}
    client_class = APIClient

    def test_the_misconfiguration_is_raised_in_the_test_and_nothing_is_sold(self):
        user = User.objects.create_user("clerk")
        book = Book.objects.create(
            title="The Dispossessed",
            isbn=DISPOSSESSED,
            in_stock=3,
            author=Author.objects.create(name="Ursula K. Le Guin"),
        )
        self.client.force_authenticate(user)
        with self.assertRaises(ImproperlyConfigured):
            self.client.post(f"/api/books/{book.id}/sell/")
        book.refresh_from_db()
        self.assertEqual(book.in_stock, 3)
