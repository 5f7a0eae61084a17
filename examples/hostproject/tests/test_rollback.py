"""The rollback guarantee, on real commits: an error response leaves no trace."""

import pytest
from apierrors.testing import assert_error_response
from django.core.exceptions import ImproperlyConfigured

from library.models import Book

from .isbns import DISPOSSESSED, EARTHSEA, LEFT_HAND

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def new_book(author, isbn, title="A Wizard of Earthsea"):
    return {"title": title, "isbn": isbn, "author": author.id, "in_stock": 1}


def test_a_new_book_is_committed_and_announced(api, author, mailoutbox):
    response = api.post("/api/books/", new_book(author, EARTHSEA), format="json")
    assert response.status_code == 201
    assert Book.objects.filter(isbn=EARTHSEA).exists()
    assert [m.subject for m in mailoutbox] == ["New book: A Wizard of Earthsea"]


def test_a_rejected_book_sends_no_email(api, author, mailoutbox):
    response = api.post("/api/books/", new_book(author, "123"), format="json")
    assert_error_response(response, 400, key="invalid_request")
    assert not Book.objects.exists()
    assert mailoutbox == []


def test_an_import_with_one_bad_book_adds_none(api, author, mailoutbox):
    books = [
        new_book(author, EARTHSEA),
        new_book(author, LEFT_HAND, "The Left Hand"),
        new_book(author, "9780441000594", "Typo"),
    ]
    response = api.post("/api/books/import/", books, format="json")
    assert_error_response(response, 400, key="invalid_request")
    assert not Book.objects.exists()
    assert mailoutbox == []


def test_a_good_import_is_committed(api, author, mailoutbox):
    books = [new_book(author, EARTHSEA), new_book(author, LEFT_HAND, "The Left Hand")]
    response = api.post("/api/books/import/", books, format="json")
    assert response.status_code == 201
    assert sorted(Book.objects.values_list("isbn", flat=True)) == sorted([EARTHSEA, LEFT_HAND])
    assert len(mailoutbox) == 2


def test_a_sale_that_cannot_be_charged_keeps_the_stock(api, book):
    with pytest.raises(ImproperlyConfigured):
        api.post(f"/api/books/{book.id}/sell/")
    book.refresh_from_db()
    assert book.in_stock == 3


def test_a_charged_sale_takes_one_from_stock(api, book, settings):
    settings.PAYMENT_API_KEY = "sk_test_example"
    response = api.post(f"/api/books/{book.id}/sell/")
    assert response.status_code == 200
    assert response.json()["in_stock"] == 2
    book.refresh_from_db()
    assert book.in_stock == 2


def test_deleting_a_book_commits(api, book):
    assert api.delete(f"/api/books/{book.id}/").status_code == 204
    assert not Book.objects.filter(isbn=DISPOSSESSED).exists()
