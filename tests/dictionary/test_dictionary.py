"""The dictionary in the database: built-ins after migrate, sync, and edits that take effect."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from apierrors.dictionary.declared import BUILTIN_ERRORS
from apierrors.models import ErrorCode

from ..factories import ErrorCodeFactory

pytestmark = pytest.mark.django_db

SEED_TEXTS = {
    # Canvas Medical's examples, verbatim (seeds 000 and 001).
    "invalid_request": (400, "invalid", "The request was malformed or failed validation."),
    "authentication_failed": (401, "unknown", "Authentication failed"),
    "authorization_failed": (403, "forbidden", "Authorization failed"),
    "unknown_resource": (404, "not-found", "Unknown {resource} resource '{id}'"),
    "precondition_failed": (
        412,
        "conflict",
        "The resource has been modified since the precondition was specified.",
    ),
    "appointment_unavailable": (
        422,
        "business-rule",
        "This appointment time is no longer available.",
    ),
    "internal_error": (500, "exception", "Internal server error"),
}


def test_builtins_exist_after_migrate():
    keys = set(ErrorCode.objects.values_list("key", flat=True))
    assert {e.key for e in BUILTIN_ERRORS} <= keys


@pytest.mark.parametrize(("key", "expected"), SEED_TEXTS.items())
def test_builtin_seed_texts(key, expected):
    row = ErrorCode.objects.get(key=key)
    assert (row.status, row.fhir_code, row.message) == expected


def test_required_statuses_are_covered():
    statuses = set(ErrorCode.objects.values_list("status", flat=True))
    assert {400, 401, 403, 404, 405, 406, 409, 412, 415, 422, 429, 500, 503} <= statuses


def test_appointment_unavailable_is_error_code_1():
    assert ErrorCode.objects.get(key="appointment_unavailable").error_code == 1


def test_sync_adds_missing_and_keeps_edits(capsys):
    ErrorCode.objects.filter(key="internal_error").update(message="Oops, our fault.")
    ErrorCode.objects.filter(key="throttled").delete()
    call_command("sync_error_codes")
    assert "throttled" in capsys.readouterr().out
    assert ErrorCode.objects.get(key="internal_error").message == "Oops, our fault."
    assert ErrorCode.objects.get(key="throttled").status == 429
    call_command("sync_error_codes")
    assert "already has every declared code" in capsys.readouterr().out


def test_sync_skips_a_key_whose_code_is_taken(caplog):
    ErrorCode.objects.filter(key="throttled").delete()
    # Saving it is refused (the code is throttled's); rows written around validation remain.
    ErrorCodeFactory(key="partner_specific", error_code=7020)
    ErrorCode.objects.filter(key="partner_specific").update(error_code=20)
    call_command("sync_error_codes")
    assert not ErrorCode.objects.filter(key="throttled").exists()
    assert "error_code 20 is used" in caplog.text


def test_code_declared_exception_is_synced():
    from apierrors.dictionary.declared import DECLARED, DeclaredError
    from apierrors.exceptions import UnprocessableEntity

    try:

        class SlotTaken(UnprocessableEntity):
            declaration = DeclaredError(
                "slot_taken_test",
                4242,
                422,
                "Slot taken",
                "Slot {slot} was just booked.",
                "business-rule",
            )

        call_command("sync_error_codes")
        row = ErrorCode.objects.get(key="slot_taken_test")
        assert (row.error_code, row.status) == (4242, 422)
        assert str(SlotTaken(slot=7)) == "Slot 7 was just booked."
        assert SlotTaken().status_code == 422
    finally:
        DECLARED.pop("slot_taken_test", None)


# -- edits in the admin take effect on the next response --------------------------------------


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("boss", "boss@example.org", "pw")
    client.force_login(user)
    return client


def change_form(admin_client, entry: ErrorCode, **changes) -> dict:
    """The admin change form's current values (as a browser would post them), with changes."""
    page = admin_client.get(reverse("admin:apierrors_errorcode_change", args=[entry.pk]))
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if isinstance(value, bool):
            value = "on" if value else ""
        data[name] = "" if value is None else value
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{name}"] = value
        data[f"{formset.prefix}-TOTAL_FORMS"] = 0
        data[f"{formset.prefix}-INITIAL_FORMS"] = 0
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


@pytest.mark.django_db(transaction=True)  # the change must really commit
def test_admin_edit_changes_the_next_response(admin_client, client_north, demo):
    from testproject.clinic.demo_data import DEMO_PATIENT_ID

    from ..factories import AppointmentFactory

    booked = AppointmentFactory(patient_id=DEMO_PATIENT_ID)
    payload = {"slot": booked.slot_id, "patient": str(DEMO_PATIENT_ID)}
    # Warm the dictionary with the old text, as a long-running process would have.
    first = client_north.post("/api/v1/shipstream/appointments/", payload, format="json")
    assert first.json()["errors"][0]["message"] == "This appointment time is no longer available."

    entry = ErrorCode.objects.get(key="appointment_unavailable")
    url = reverse("admin:apierrors_errorcode_change", args=[entry.pk])
    response = admin_client.post(
        url,
        change_form(
            admin_client,
            entry,
            message="Sorry, that time was just taken.",
            status=409,
            error_code=77,
        ),
    )
    assert response.status_code == 302, (
        response.context and response.context["adminform"].form.errors
    )

    second = client_north.post("/api/v1/shipstream/appointments/", payload, format="json")
    assert second.status_code == 409
    assert second.json()["errors"][0]["message"] == "Sorry, that time was just taken."
    assert second.json()["errors"][0]["error_code"] == 77
    docplanner = client_north.post("/api/v1/docplanner/bookings/", payload, format="json")
    assert docplanner.json() == {"error_code": 77}


def test_entry_fields_are_the_models_and_every_record_has_them():
    # One list (models.ENTRY_FIELDS) drives the admin form, import/export, the preview and
    # the catalog's load: it must be the model's editable columns and the Entry's fields.
    from dataclasses import fields

    from apierrors.dictionary.catalog import Entry
    from apierrors.dictionary.declared import DeclaredError
    from apierrors.models import ENTRY_FIELDS, ErrorCode

    editable = {f.name for f in ErrorCode._meta.concrete_fields if f.editable} - {"id"}
    assert set(ENTRY_FIELDS) == editable
    assert set(ENTRY_FIELDS) <= {f.name for f in fields(Entry)}
    assert {f.name for f in fields(DeclaredError)} <= set(ENTRY_FIELDS)
