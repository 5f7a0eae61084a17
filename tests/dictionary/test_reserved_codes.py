"""A code declared in code stays its entry's, even after the entry's row is deleted.

Code raises a built-in by its key, and when its row is gone the declaration answers instead,
with the declared ``error_code``. Another entry taking that code would give partners one
number for two errors, and the published dictionary would list it twice.
"""

import io
import logging

import pytest
import tablib
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from apierrors.models import ErrorCode

from ..factories import ErrorCodeFactory

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:apierrors_errorcode_add")
JSON_URL = reverse("apierrors:dictionary-json")
RESERVED = "error_code 13 is reserved for the built-in entry conflict"


def new_entry(**values) -> ErrorCode:
    return ErrorCode(
        **{
            "key": "our_conflict",
            "error_code": 13,
            "status": 409,
            "title": "Ours",
            "message": "Ours.",
            "fhir_code": "conflict",
            **values,
        }
    )


def add_form(**values) -> dict:
    data = {
        "key": "our_conflict",
        "error_code": 13,
        "status": 409,
        "title": "Ours",
        "message": "Ours.",
        "fhir_code": "conflict",
        "severity": "error",
        "is_public": "on",
        "description": "",
        "translations-TOTAL_FORMS": "1",
        "translations-INITIAL_FORMS": "0",
        "translations-MIN_NUM_FORMS": "0",
        "translations-MAX_NUM_FORMS": "1000",
        "translations-0-language": "pl",
        "translations-0-title": "Nasz",
        "translations-0-message": "Nasz.",
    }
    data.update(values)
    return data


def codes_listed(client) -> list[int]:
    return [e["error_code"] for e in client.get(JSON_URL).json()["errors"]]


def test_full_clean_refuses_a_deleted_builtins_code():
    ErrorCode.objects.filter(key="conflict").delete()
    with pytest.raises(ValidationError) as refused:
        new_entry().full_clean()
    assert RESERVED in " ".join(refused.value.message_dict["error_code"])


def test_saving_through_the_orm_refuses_it_too():
    ErrorCode.objects.filter(key="conflict").delete()
    with pytest.raises(ValidationError, match=RESERVED):
        new_entry().save()
    with pytest.raises(ValidationError, match=RESERVED):
        ErrorCode.objects.create(
            **{
                f: getattr(new_entry(), f)
                for f in ("key", "error_code", "status", "title", "message", "fhir_code")
            }
        )
    assert not ErrorCode.objects.filter(error_code=13).exists()


def test_a_custom_entry_cannot_move_onto_a_builtins_code():
    ErrorCode.objects.filter(key="conflict").delete()
    entry = ErrorCodeFactory(key="ours", error_code=7100)
    entry.error_code = 13
    with pytest.raises(ValidationError, match="reserved for the built-in entry conflict"):
        entry.full_clean()


def test_the_builtin_keeps_its_own_code_and_may_move_and_come_back():
    conflict = ErrorCode.objects.get(key="conflict")
    conflict.error_code = 1013
    conflict.full_clean()
    conflict.save()
    conflict.error_code = 13
    conflict.full_clean()
    conflict.save()
    # Deleted and recreated with its declared code: still fine.
    conflict.delete()
    new_entry(key="conflict").full_clean()


def test_a_builtin_cannot_take_another_builtins_code():
    ErrorCode.objects.filter(key="duplicate").delete()
    conflict = ErrorCode.objects.get(key="conflict")
    conflict.error_code = 14
    with pytest.raises(ValidationError, match="reserved for the built-in entry duplicate"):
        conflict.full_clean()


def test_the_admin_refuses_it_and_saves_nothing(admin_client):
    ErrorCode.objects.filter(key="conflict").delete()
    response = admin_client.post(ADD_URL, add_form())
    assert response.status_code == 200
    assert RESERVED in response.content.decode()
    assert not ErrorCode.objects.filter(key="our_conflict").exists()


def test_an_import_row_is_refused_in_the_dry_run(admin_client):
    ErrorCode.objects.filter(key="conflict").delete()
    data = tablib.Dataset(
        headers=["key", "error_code", "status", "title", "message", "fhir_code", "severity"]
    )
    data.append(["our_conflict", 13, 409, "Ours", "Ours.", "conflict", "error"])
    upload = io.BytesIO(data.export("csv").encode())
    upload.name = "dictionary.csv"
    preview = admin_client.post(
        reverse("admin:apierrors_errorcode_import"),
        {"import_file": upload, "format": 0, "resource": 0},
    )
    assert preview.status_code == 200
    assert preview.context["result"].has_validation_errors()
    assert RESERVED in preview.content.decode()
    assert not ErrorCode.objects.filter(key="our_conflict").exists()


def test_the_published_dictionary_lists_each_code_once(client):
    # Rows written around validation (QuerySet.update, raw SQL, an old database): the
    # built-in answers with its declared code, so it is the one the dictionary lists.
    ErrorCode.objects.filter(key="conflict").delete()
    ErrorCodeFactory(key="our_conflict", error_code=7101, title="Ours")
    ErrorCode.objects.filter(key="our_conflict").update(error_code=13)
    listed = codes_listed(client)
    assert listed.count(13) == 1 and len(listed) == len(set(listed))
    entry = next(e for e in client.get(JSON_URL).json()["errors"] if e["error_code"] == 13)
    assert entry["key"] == "conflict"
    html = client.get(reverse("apierrors:dictionary")).content.decode()
    assert html.count("<td><strong>13</strong></td>") == 1
    out = io.StringIO()
    call_command("export_error_codes", stdout=out, stderr=io.StringIO())
    assert out.getvalue().count('"error_code": 13,') == 1


def test_sync_does_not_give_the_code_away_either(client, caplog):
    ErrorCode.objects.filter(key="conflict").delete()
    ErrorCodeFactory(key="our_conflict", error_code=7102)
    ErrorCode.objects.filter(key="our_conflict").update(error_code=13)
    with caplog.at_level(logging.WARNING, logger="apierrors"):
        call_command("sync_error_codes", stdout=io.StringIO(), stderr=io.StringIO())
    assert "error_code 13 is used by another entry" in caplog.text
    assert not ErrorCode.objects.filter(key="conflict").exists()
    assert codes_listed(client).count(13) == 1
    # Once the intruder is gone, sync brings the built-in back with its code.
    ErrorCode.objects.filter(key="our_conflict").delete()
    call_command("sync_error_codes", stdout=io.StringIO(), stderr=io.StringIO())
    assert ErrorCode.objects.get(key="conflict").error_code == 13
