import pytest
from rest_framework.test import APIClient

from hostproject import errortracking
from library.models import Author, Book

from .isbns import DISPOSSESSED


@pytest.fixture(autouse=True)
def tracked_errors():
    """What the error tracker recorded during the test."""
    errortracking.events.clear()
    yield errortracking.events
    errortracking.events.clear()


@pytest.fixture
def clerk(django_user_model):
    return django_user_model.objects.create_user("clerk")


@pytest.fixture
def api(clerk):
    client = APIClient()
    client.force_authenticate(clerk)
    return client


@pytest.fixture
def author():
    return Author.objects.create(name="Ursula K. Le Guin")


@pytest.fixture
def book(author):
    return Book.objects.create(
        title="The Dispossessed", isbn=DISPOSSESSED, author=author, in_stock=3
    )
