"""Two admins saving clashing entries at the same moment: a form error, never a 500.

The change form checks ``error_code`` (and ``key``, and one translation per language) against
the table, but both saves can pass that check before either commits; the database's unique
constraint then refuses the second INSERT. That must come back as the form's "already used"
error, with nothing of the refused save left behind (its translations included), inside the
request's AtomicRequestsMiddleware transaction.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from html import unescape

import pytest
from django.db import connections
from django.db.models.signals import pre_save
from django.test import Client
from django.urls import reverse

from apierrors.models import ErrorCode, ErrorTranslation

from ..factories import ErrorCodeFactory

ADD_URL = reverse("admin:apierrors_errorcode_add")


def add_form(key: str, error_code: int, language: str = "pl") -> dict:
    return {
        "key": key,
        "error_code": error_code,
        "status": 409,
        "title": f"Title {key}",
        "message": "Taken.",
        "fhir_code": "conflict",
        "severity": "error",
        "is_public": "on",
        "description": "",
        "translations-TOTAL_FORMS": "1",
        "translations-INITIAL_FORMS": "0",
        "translations-MIN_NUM_FORMS": "0",
        "translations-MAX_NUM_FORMS": "1000",
        "translations-0-language": language,
        "translations-0-title": f"Tytuł {key}",
        "translations-0-message": "Zajęte.",
    }


def change_form(entry: ErrorCode, language: str, title: str) -> dict:
    data = add_form(entry.key, entry.error_code, language)
    data.update(
        {
            "title": entry.title,
            "message": entry.message,
            "status": entry.status,
            "fhir_code": entry.fhir_code,
            "translations-0-title": title,
        }
    )
    return data


@contextmanager
def both_past_validation(model, when):
    """Hold every save of ``model`` matching ``when`` until two requests have reached it:
    both forms validated against a table that had neither row yet."""
    barrier = threading.Barrier(2, timeout=30)
    arrived = []

    def wait_for_the_other(sender, instance, raw=False, **kwargs):
        if when(instance) and len(arrived) < 2:
            arrived.append(instance)
            barrier.wait()

    pre_save.connect(wait_for_the_other, sender=model, weak=False)
    try:
        yield
    finally:
        pre_save.disconnect(wait_for_the_other, sender=model)


def post_at_once(user, requests: list[tuple[str, dict]]) -> list:
    def post(request):
        url, data = request
        client = Client()
        client.force_login(user)
        try:
            return client.post(url, data)
        finally:
            connections.close_all()  # this thread's own connection

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(post, requests))


def page(response) -> str:
    return unescape(response.content.decode())


def require_server_database() -> None:
    if connections["default"].vendor not in ("postgresql", "mysql"):
        pytest.skip(
            "two writers at once need a server database: run with "
            "APIERRORS_DB=postgres (or mariadb)"
        )


# -- truly concurrent: two requests, two connections ---------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_admins_adding_the_same_code_at_once(admin_user):
    require_server_database()
    with both_past_validation(ErrorCode, lambda e: e.error_code == 7200 and e.pk is None):
        responses = post_at_once(
            admin_user, [(ADD_URL, add_form("first", 7200)), (ADD_URL, add_form("second", 7200))]
        )
    assert sorted(r.status_code for r in responses) == [200, 302]
    refused = next(r for r in responses if r.status_code == 200)
    saved = ErrorCode.objects.get(error_code=7200)
    assert f"error_code 7200 is already used by {saved.key}" in page(refused)
    # Nothing of the refused save: no entry, no translation, no log line.
    assert ErrorCode.objects.filter(key__in=["first", "second"]).count() == 1
    assert list(
        ErrorTranslation.objects.values_list("error__key", flat=True).filter(
            title__startswith="Tytuł"
        )
    ) == [saved.key]
    from django.contrib.admin.models import LogEntry

    assert LogEntry.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_admins_adding_the_same_translation_at_once(admin_user):
    require_server_database()
    entry = ErrorCodeFactory(key="slot_taken", error_code=7201, message="Taken.")
    url = reverse("admin:apierrors_errorcode_change", args=[entry.pk])
    with both_past_validation(ErrorCode, lambda e: e.key == "slot_taken"):
        responses = post_at_once(
            admin_user,
            [(url, change_form(entry, "pl", "Pierwszy")), (url, change_form(entry, "pl", "Drugi"))],
        )
    assert sorted(r.status_code for r in responses) == [200, 302]
    refused = next(r for r in responses if r.status_code == 200)
    # Django's own check names it where the retry sees the other row (READ COMMITTED); under
    # an older snapshot (MariaDB's REPEATABLE READ) the refused constraint says it instead.
    assert "Translation with this Error and Language already exists." in page(
        refused
    ) or "was saved by someone else at the same moment" in page(refused)
    translations = list(ErrorTranslation.objects.filter(error=entry))
    assert len(translations) == 1 and translations[0].title in ("Pierwszy", "Drugi")


# -- everywhere (SQLite too): the other save lands between validation and INSERT -------------


@pytest.mark.django_db
def test_a_code_taken_between_validation_and_save_is_a_form_error(admin_client):
    # SQLite's in-memory test database takes one writer at a time, so here the other
    # admin's row is written on this request's own connection, after its form validated.
    def other_admin_saves_first(sender, instance, raw=False, **kwargs):
        if instance.key == "second" and not ErrorCode.objects.filter(key="first").exists():
            ErrorCode.objects.create(
                key="first",
                error_code=7202,
                status=409,
                title="First",
                message="First.",
                fhir_code="conflict",
            )

    pre_save.connect(other_admin_saves_first, sender=ErrorCode, weak=False)
    try:
        response = admin_client.post(ADD_URL, add_form("second", 7202))
    finally:
        pre_save.disconnect(other_admin_saves_first, sender=ErrorCode)
    assert response.status_code == 200
    assert "error_code 7202 was just taken by an entry saved at the same moment" in page(response)
    assert 'name="error_code" value="7202"' in response.content.decode()  # input kept
    assert not ErrorCode.objects.filter(key="second").exists()
    assert not ErrorTranslation.objects.filter(title="Tytuł second").exists()
