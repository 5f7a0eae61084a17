"""Import/export in the admin (django-import-export), and fixtures with natural keys."""

import io
import json
import re
from html import unescape

import pytest
import tablib
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.urls import reverse

from apierrors.admin.resources import ErrorCodeResource
from apierrors.models import ErrorCode, ErrorTranslation

from ..factories import ErrorCodeFactory, ErrorTranslationFactory

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("admin:apierrors_errorcode_import")
PROCESS_URL = reverse("admin:apierrors_errorcode_process_import")
EXPORT_URL = reverse("admin:apierrors_errorcode_export")
FORMATS = {"csv": 0, "json": 1, "xlsx": 2}  # the admin's import_formats / export_formats
HEADERS = [
    "key",
    "error_code",
    "status",
    "title",
    "message",
    "fhir_code",
    "severity",
    "is_public",
    "description",
    "title_pl",
    "message_pl",
    "title_es",
    "message_es",
]


def dataset(*rows: dict) -> tablib.Dataset:
    data = tablib.Dataset(headers=HEADERS)
    for row in rows:
        data.append([row.get(h, "") for h in HEADERS])
    return data


def row(**values) -> dict:
    base = {
        "key": "slot_taken",
        "error_code": 1001,
        "status": 409,
        "title": "Slot taken",
        "message": "Slot {slot} was just booked.",
        "fhir_code": "conflict",
        "severity": "error",
        "is_public": 1,
    }
    return {**base, **values}


def upload(admin_client, content: bytes, fmt: str):
    """Step one of the admin import: the dry run and its preview page."""
    upload = io.BytesIO(content)
    upload.name = f"dictionary.{fmt}"
    return admin_client.post(
        IMPORT_URL, {"import_file": upload, "format": FORMATS[fmt], "resource": 0}
    )


def confirm(admin_client, preview):
    form = preview.context["confirm_form"]
    return admin_client.post(PROCESS_URL, {**form.initial, "resource": 0}, follow=True)


def text(response) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))


# -- export ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_admin_exports_every_format_with_translation_columns(admin_client, fmt):
    entry = ErrorCode.objects.get(key="unknown_resource")
    ErrorTranslationFactory(
        error=entry, language="pl", title="Brak", message="Brak {resource} {id}"
    )
    form = admin_client.get(EXPORT_URL).context["form"]
    fields = {name: "on" for name, f in form.fields.items() if f.initial is True}
    response = admin_client.post(EXPORT_URL, {"format": FORMATS[fmt], "resource": 0, **fields})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    data = tablib.Dataset().load(
        response.content if fmt == "xlsx" else response.content.decode("utf-8-sig"), format=fmt
    )
    assert data.headers == HEADERS
    exported = {r["key"]: r for r in data.dict}
    assert exported["unknown_resource"]["message_pl"] == "Brak {resource} {id}"
    assert exported["unknown_resource"]["title_es"] in ("", None)
    assert str(exported["unknown_resource"]["error_code"]) == "8"


def test_view_only_staff_can_export_but_not_import(client):
    from django.contrib.auth.models import Permission

    from ..factories import UserFactory

    user = UserFactory(username="viewer", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="apierrors", codename__startswith="view_")
    )
    client.force_login(user)
    assert client.get(EXPORT_URL).status_code == 200
    assert client.get(IMPORT_URL).status_code == 403
    changelist = client.get(reverse("admin:apierrors_errorcode_changelist"))
    assert IMPORT_URL not in changelist.content.decode()


# -- import -------------------------------------------------------------------------------


def test_import_dry_run_previews_then_confirm_applies(admin_client):
    data = dataset(
        row(title_pl="Termin zajęty", message_pl="Termin {slot} właśnie zajęto."),
        {
            **row(
                key="unknown_resource",
                error_code=8,
                status=404,
                title="Unknown resource",
                message="No {resource} with id {id}.",
                fhir_code="not-found",
            )
        },
    )
    preview = upload(admin_client, data.export("csv").encode(), "csv")
    assert preview.status_code == 200
    result = preview.context["result"]
    assert not result.has_errors() and not result.has_validation_errors()
    assert [r.import_type for r in result.rows] == ["new", "update"]
    # A dry run: nothing saved yet.
    assert not ErrorCode.objects.filter(key="slot_taken").exists()
    assert (
        ErrorCode.objects.get(key="unknown_resource").message
        == "Unknown {resource} resource '{id}'"
    )

    done = confirm(admin_client, preview)
    assert done.status_code == 200
    assert "Import finished: 1 new, 1 updated" in text(done)
    slot = ErrorCode.objects.get(key="slot_taken")
    assert slot.translations.get(language="pl").message == "Termin {slot} właśnie zajęto."
    assert ErrorCode.objects.get(key="unknown_resource").message == "No {resource} with id {id}."
    assert LogEntry.objects.filter(object_id=str(slot.pk)).exists()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"message": "Bad {0.__class__}"}, "Placeholder {0.__class__} is not allowed"),
        ({"status": 302}, "302 is not an error status"),
        ({"error_code": 8}, "error_code 8 is already used by unknown_resource"),
        ({"message_pl": "Zły {slotx}"}, "{slotx} is not filled in by the code"),
        (
            {"key": "unknown_resource", "error_code": 8, "message": "No {patient}"},
            "{patient} is not filled in by the code",
        ),
    ],
)
def test_invalid_rows_are_reported_in_the_dry_run(admin_client, bad, message):
    data = dataset(row(key="fine_one", error_code=1002), row(**bad))
    preview = upload(admin_client, data.export("csv").encode(), "csv")
    assert preview.status_code == 200
    result = preview.context["result"]
    assert result.has_validation_errors()
    assert message in text(preview)
    assert "confirm_form" not in preview.context or preview.context["confirm_form"] is None
    assert not ErrorCode.objects.filter(key="fine_one").exists()


def test_import_json_and_xlsx(admin_client):
    for fmt, key, code in (("json", "from_json", 1003), ("xlsx", "from_xlsx", 1004)):
        data = dataset(row(key=key, error_code=code, message_es="Hora {slot} ocupada."))
        content = data.export(fmt)
        content = content.encode() if isinstance(content, str) else content
        preview = upload(admin_client, content, fmt)
        assert not preview.context["result"].has_validation_errors(), fmt
        confirm(admin_client, preview)
        entry = ErrorCode.objects.get(key=key)
        assert entry.translations.get(language="es").message == "Hora {slot} ocupada."


def test_reimporting_an_export_changes_nothing():
    resource = ErrorCodeResource()
    exported = resource.export()
    result = ErrorCodeResource().import_data(exported, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert {r.import_type for r in result.rows} == {"skip"}


def test_emptied_translation_cells_remove_the_translation():
    entry = ErrorCodeFactory(
        key="slot_taken", error_code=1001, message="Slot {slot} was just booked."
    )
    ErrorTranslationFactory(error=entry, language="pl", title="Zajęte", message="Zajęte {slot}")
    result = ErrorCodeResource().import_data(dataset(row(title_pl="", message_pl="")))
    assert not result.has_validation_errors()
    assert not ErrorTranslation.objects.filter(error=entry).exists()


def test_columns_left_out_are_left_alone():
    entry = ErrorCode.objects.get(key="unknown_resource")
    ErrorTranslationFactory(error=entry, language="pl", message="Brak {resource}")
    data = tablib.Dataset(headers=["key", "title"])
    data.append(["unknown_resource", "Nothing here"])
    result = ErrorCodeResource().import_data(data)
    assert not result.has_errors() and not result.has_validation_errors()
    entry.refresh_from_db()
    assert entry.title == "Nothing here"
    assert entry.message == "Unknown {resource} resource '{id}'"
    assert entry.translations.get(language="pl").message == "Brak {resource}"


# -- fixtures with natural keys --------------------------------------------------------------


def test_dumpdata_loaddata_moves_the_dictionary_by_key(tmp_path):
    entry = ErrorCode.objects.get(key="unknown_resource")
    entry.message = "No {resource} {id}."
    entry.save()
    ErrorTranslationFactory(error=entry, language="pl", title="Brak", message="Brak {id}")
    ErrorCodeFactory(key="slot_taken", error_code=1001)
    fixture = tmp_path / "dictionary.json"
    call_command(
        "dumpdata",
        "apierrors",
        "--natural-primary",
        "--natural-foreign",
        "--output",
        str(fixture),
        verbosity=0,
    )
    dumped = json.loads(fixture.read_text())
    assert all("pk" not in obj for obj in dumped)
    translation = next(o for o in dumped if o["model"] == "apierrors.errortranslation")
    assert translation["fields"]["error"] == ["unknown_resource"]

    # Another environment: the same keys under other ids, and an edit to be overwritten.
    ErrorTranslation.objects.all().delete()
    ErrorCode.objects.all().delete()
    ErrorCodeFactory(key="only_here", error_code=5000)
    from apierrors.dictionary.sync import sync_declared_codes

    sync_declared_codes()
    ids_before = dict(ErrorCode.objects.values_list("key", "pk"))
    call_command("loaddata", str(fixture), verbosity=0)

    moved = ErrorCode.objects.get(key="unknown_resource")
    assert moved.pk == ids_before["unknown_resource"]  # updated in place, no id clash
    assert moved.message == "No {resource} {id}."
    assert moved.translations.get(language="pl").message == "Brak {id}"
    assert ErrorCode.objects.filter(key="slot_taken").exists()
    assert ErrorCode.objects.filter(key="only_here").exists()
    assert ErrorCode.objects.count() == len(ids_before) + 1
