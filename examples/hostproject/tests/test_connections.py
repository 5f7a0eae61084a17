"""Which databases a request connects to: only those it uses (AtomicRequestsMiddleware opens
its transaction on an alias at the alias's first use)."""

import pytest
from django.db import connections

from library.models import ArchivedBook

from .isbns import EARTHSEA

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def aliases_connected_by(send):
    """Send a request on brand-new connection objects (a fresh worker); return the response
    and the aliases it connected to."""
    saved = {alias: connections[alias] for alias in connections}
    fresh = {alias: type(conn)(conn.settings_dict, alias) for alias, conn in saved.items()}
    try:
        for alias, conn in fresh.items():
            connections[alias] = conn
        response = send()
    finally:
        for alias, conn in saved.items():
            connections[alias] = conn
    opened = {alias for alias, conn in fresh.items() if conn.connection is not None}
    for conn in fresh.values():
        if conn.connection is not None:
            conn.connection.close()  # Django's close() keeps in-memory test databases open
    return response, opened


@pytest.fixture(autouse=True)
def dictionary_loaded(client):
    """An error response reads the error dictionary from the database once per process and
    after each edit (the flush after a transactional test re-creates it), not per request."""
    assert client.get("/api/no-such-thing/").status_code == 404


@pytest.fixture
def archived():
    return ArchivedBook.objects.create(
        title="Rocannon's World", isbn="9780441730087", author_name="Ursula K. Le Guin"
    )


@pytest.mark.parametrize(
    ("method", "url", "status", "expected"),
    [
        ("get", "/api/books/", 200, {"replica"}),
        ("get", "/api/books/{book}/", 200, {"replica"}),
        ("get", "/api/books/999/", 404, {"replica"}),
        ("get", "/api/partner/books/999/", 404, {"replica"}),
        ("get", "/api/archive/", 200, {"archive"}),
        ("get", "/api/no-such-thing/", 404, set()),
        ("get", "/api/isbn-check/", 405, set()),
        ("post", "/api/isbn-check/", 400, set()),
    ],
)
def test_a_read_connects_only_to_the_database_it_reads(
    api, book, archived, method, url, status, expected
):
    response, opened = aliases_connected_by(lambda: getattr(api, method)(url.format(book=book.id)))
    assert response.status_code == status
    assert opened == expected


def test_adding_a_book_reads_the_replica_and_writes_the_primary(api, author):
    book = {"title": "A Wizard of Earthsea", "isbn": EARTHSEA, "author": author.id}
    response, opened = aliases_connected_by(lambda: api.post("/api/books/", book, format="json"))
    assert response.status_code == 201
    assert opened == {"replica", "default"}


def test_archiving_a_book_uses_all_three(api, book):
    response, opened = aliases_connected_by(lambda: api.post(f"/api/books/{book.id}/archive/"))
    assert response.status_code == 201
    assert opened == {"replica", "default", "archive"}
    assert ArchivedBook.objects.filter(title="The Dispossessed").exists()
