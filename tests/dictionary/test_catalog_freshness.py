"""Every way the dictionary changes reaches the next error response, on commit and only then.

A change publishes a new stamp in the cache when its transaction commits; each process
compares its copy's stamp on every error response. Here the test process plays both the
editor and the serving process; ``test_multiprocess.py`` does it across real processes.
"""

import json

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from apierrors.dictionary.catalog import STAMP_KEY, dictionary_changed
from apierrors.models import ErrorCode, ErrorTranslation

from ..factories import ErrorCodeFactory, ErrorTranslationFactory
from ..runtime.runtime_urls import shared_stamp_cache

pytestmark = [
    pytest.mark.urls("tests.runtime.runtime_urls"),
    pytest.mark.django_db(databases="__all__"),
]

BOOKED = "This appointment time is no longer available."
NOW = "2026-01-01T00:00:00Z"  # fixtures are saved raw: auto_now does not fill it in


def detail(client, key: str = "appointment_unavailable", **headers) -> str:
    """The problem+json ``detail`` a caller gets for an error raised by ``key``."""
    response = client.get(f"/rt/problem/key/?key={key}", **headers)
    return json.loads(response.content)["detail"]


def edit(key: str, **fields) -> None:
    row = ErrorCode.objects.get(key=key)
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()


def test_an_edit_reaches_the_next_response_when_it_commits(
    client, django_capture_on_commit_callbacks
):
    assert detail(client) == BOOKED
    with django_capture_on_commit_callbacks(execute=True) as published:
        edit("appointment_unavailable", message="That slot was just taken.")
        # Not committed: no process may act on it yet (it could still roll back).
        assert detail(client) == BOOKED
    assert len(published) == 1
    assert detail(client) == "That slot was just taken."


def test_a_rolled_back_edit_publishes_nothing(client, django_capture_on_commit_callbacks):
    assert detail(client) == BOOKED
    stamp = cache.get(STAMP_KEY)
    with (
        django_capture_on_commit_callbacks(execute=True) as published,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        edit("appointment_unavailable", message="Never committed.")
        raise RuntimeError("the edit's transaction fails")
    assert published == []
    assert cache.get(STAMP_KEY) == stamp
    assert detail(client) == BOOKED


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_real_commit_publishes_and_real_rollback_does_not(client):
    assert detail(client) == BOOKED
    stamp = cache.get(STAMP_KEY)
    with pytest.raises(RuntimeError), transaction.atomic():
        edit("appointment_unavailable", message="Rolled back.")
        raise RuntimeError
    assert cache.get(STAMP_KEY) == stamp
    edit("appointment_unavailable", message="Committed.")  # autocommit: commits at once
    assert cache.get(STAMP_KEY) != stamp
    assert detail(client) == "Committed."


def test_status_change_reaches_the_next_response(client, django_capture_on_commit_callbacks):
    assert client.get("/rt/fhir/business/").status_code == 422
    with django_capture_on_commit_callbacks(execute=True):
        edit("appointment_unavailable", status=409, fhir_code="conflict")
    response = client.get("/rt/fhir/business/")
    assert response.status_code == 409
    assert json.loads(response.content)["issue"][0]["code"] == "conflict"


def test_deleting_an_edited_builtin_falls_back_to_its_declared_text(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        edit("appointment_unavailable", message="Edited.")
    assert detail(client) == "Edited."
    with django_capture_on_commit_callbacks(execute=True):
        ErrorCode.objects.get(key="appointment_unavailable").delete()
    assert detail(client) == BOOKED


def test_a_translation_edit_reaches_the_next_response(client, django_capture_on_commit_callbacks):
    polish = {"HTTP_ACCEPT_LANGUAGE": "pl"}
    assert detail(client, **polish) != "Ten termin jest już zajęty."
    with django_capture_on_commit_callbacks(execute=True):
        translation = ErrorTranslationFactory(
            error=ErrorCode.objects.get(key="appointment_unavailable"),
            language="pl",
            message="Ten termin jest już zajęty.",
        )
    assert detail(client, **polish) == "Ten termin jest już zajęty."
    assert detail(client) == BOOKED
    with django_capture_on_commit_callbacks(execute=True):
        ErrorTranslation.objects.get(pk=translation.pk).delete()
    assert detail(client, **polish) != "Ten termin jest już zajęty."


def test_loaddata_publishes_once_for_the_whole_fixture(
    client, tmp_path, django_capture_on_commit_callbacks
):
    assert detail(client) == BOOKED
    fixture = tmp_path / "dictionary.json"
    fixture.write_text(
        json.dumps(
            [
                {
                    "model": "apierrors.errorcode",
                    "fields": {
                        "key": "appointment_unavailable",
                        "error_code": 1,
                        "status": 422,
                        "title": "Gone",
                        "message": "Loaded from a fixture.",
                        "fhir_code": "business-rule",
                        "severity": "error",
                        "description": "",
                        "is_public": True,
                        "updated_at": NOW,
                    },
                },
                {
                    "model": "apierrors.errorcode",
                    "fields": {
                        "key": "fixture_only",
                        "error_code": 4242,
                        "status": 409,
                        "title": "Fixture",
                        "message": "Only in the fixture.",
                        "fhir_code": "conflict",
                        "severity": "error",
                        "description": "",
                        "is_public": True,
                        "updated_at": NOW,
                    },
                },
            ]
        )
    )
    with django_capture_on_commit_callbacks(execute=True) as published:
        ErrorCode.objects.get(key="appointment_unavailable").delete()  # loaddata won't upsert
        call_command("loaddata", str(fixture), verbosity=0)
    assert len(published) == 1  # one new stamp per transaction, not one per row
    assert detail(client) == "Loaded from a fixture."
    assert detail(client, key="fixture_only") == "Only in the fixture."


def test_admin_bulk_delete_reaches_the_next_response(
    admin_client, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        custom = ErrorCodeFactory(key="slot_taken", message="Slot taken.", status=409)
        ErrorTranslationFactory(error=custom, language="pl", message="Zajęte.")
    assert detail(client, key="slot_taken") == "Slot taken."
    assert client.get("/errors/slot_taken/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True) as published:
        response = admin_client.post(
            "/admin/apierrors/errorcode/",
            {"action": "delete_selected", "_selected_action": [custom.pk], "post": "yes"},
        )
    assert response.status_code == 302
    assert not ErrorCode.objects.filter(key="slot_taken").exists()
    assert len(published) == 1
    assert client.get("/errors/slot_taken/").status_code == 404
    # Raising a key nobody declares any more is a bug in code: a 500, not the old text (and
    # the exception is re-raised by a test client that asks for it, as for any bug).
    quiet = Client(raise_request_exception=False)
    assert quiet.get("/rt/problem/key/?key=slot_taken").status_code == 500


def test_queryset_update_needs_dictionary_changed(client, django_capture_on_commit_callbacks):
    assert detail(client) == BOOKED
    with django_capture_on_commit_callbacks(execute=True) as published:
        ErrorCode.objects.filter(key="appointment_unavailable").update(message="Bulk edited.")
    assert published == []  # update() sends no signal: nothing tells the processes...
    assert detail(client) == BOOKED
    with django_capture_on_commit_callbacks(execute=True) as published:
        ErrorCode.objects.filter(key="appointment_unavailable").update(message="Bulk edited.")
        dictionary_changed()  # ...until the code that did it says so
    assert len(published) == 1
    assert detail(client) == "Bulk edited."


def test_a_cold_process_starts_from_the_database_not_the_declarations(client):
    ErrorCode.objects.filter(key="appointment_unavailable").update(message="From the table.")
    assert detail(client) == "From the table."


def test_an_evicted_stamp_makes_each_process_reload_once(
    client, settings, tmp_path, django_assert_num_queries
):
    # Counting queries: leave out AtomicRequestsMiddleware's SAVEPOINTs.
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "AtomicRequests" not in m]
    stamps = shared_stamp_cache(settings, tmp_path)
    assert detail(client) == BOOKED
    # An edit no process was told about, then the cache loses the stamp (restart, eviction).
    ErrorCode.objects.filter(key="appointment_unavailable").update(message="After a flush.")
    stamps.clear()
    assert detail(client) == "After a flush."
    assert stamps.get(STAMP_KEY) is not None
    with django_assert_num_queries(0):
        assert detail(client) == "After a flush."
