"""Translations: Accept-Language picks the text; ErrorTranslation → entry text → built-in .mo."""

import pytest
from django.utils.translation import gettext, override

from apierrors.dictionary.catalog import Entry, get_entry
from apierrors.dictionary.declared import BUILTIN_ERRORS
from apierrors.models import ErrorCode

from ..factories import ErrorCodeFactory, ErrorTranslationFactory

pytestmark = pytest.mark.django_db

UNKNOWN_ID = "a47c7b0ebbb442cdbc4adf259d148ea1"
PATH = f"/api/v1/patients/{UNKNOWN_ID}/"


def fhir_text(response) -> str:
    return response.json()["issue"][0]["details"]["text"]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("pl", f"Nieznany zasób Patient '{UNKNOWN_ID}'"),
        ("es", f"Recurso Patient desconocido: '{UNKNOWN_ID}'"),
        ("pl-PL,pl;q=0.9,en;q=0.5", f"Nieznany zasób Patient '{UNKNOWN_ID}'"),
        ("de", f"Unknown Patient resource '{UNKNOWN_ID}'"),  # not in LANGUAGES: the default
        (None, f"Unknown Patient resource '{UNKNOWN_ID}'"),
    ],
)
def test_unedited_builtin_is_served_in_the_requests_language(client_north, language, text):
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    response = client_north.get(PATH, **headers)
    assert response.status_code == 404
    assert fhir_text(response) == text


def test_problem_title_is_translated_too(client_north):
    response = client_north.get(
        PATH, HTTP_ACCEPT="application/problem+json", HTTP_ACCEPT_LANGUAGE="es"
    )
    body = response.json()
    assert (body["title"], body["detail"]) == (
        "Recurso desconocido",
        f"Recurso Patient desconocido: '{UNKNOWN_ID}'",
    )


def test_translation_row_wins_over_builtin_text(client_north):
    entry = ErrorCode.objects.get(key="unknown_resource")
    ErrorTranslationFactory(error=entry, language="pl", message="Brak {resource} o id {id}.")
    assert (
        fhir_text(client_north.get(PATH, HTTP_ACCEPT_LANGUAGE="pl"))
        == f"Brak Patient o id {UNKNOWN_ID}."
    )
    # Spanish has no row: still the shipped translation.
    assert (
        fhir_text(client_north.get(PATH, HTTP_ACCEPT_LANGUAGE="es"))
        == f"Recurso Patient desconocido: '{UNKNOWN_ID}'"
    )


def test_edited_entry_text_replaces_the_builtin_translation(client_north):
    # Support rewrote the English text: the shipped Polish no longer matches what they meant,
    # so a Polish caller gets the edited text until someone adds a Polish translation.
    ErrorCode.objects.filter(key="unknown_resource").update(message="No {resource} {id}.")
    assert (
        fhir_text(client_north.get(PATH, HTTP_ACCEPT_LANGUAGE="pl")) == f"No Patient {UNKNOWN_ID}."
    )


def test_blank_translation_parts_fall_back():
    entry = ErrorCodeFactory(key="slot_taken", title="Slot taken", message="Slot {slot}.")
    ErrorTranslationFactory(error=entry, language="pl", title="Termin zajęty", message="")
    with override("pl"):
        assert get_entry("slot_taken").localized()[0] == "Termin zajęty"
        assert get_entry("slot_taken").render_message({"slot": 4}) == "Slot 4."


def test_language_fallback_order_exact_then_base_then_entry():
    entry = Entry(
        key="k",
        error_code=1,
        status=422,
        title="T",
        message="M",
        fhir_code="value",
        translations={"pt": ("Tpt", "Mpt"), "pt-br": ("", "Mbr")},
    )
    assert entry.localized("pt-br")[0] == "T"  # blank part: the entry's own
    assert entry.localized("pt-br")[1] == (("Mbr", None),)
    assert entry.localized("pt-pt") == ("Tpt", (("Mpt", None),))  # base language
    assert entry.localized("fr") == ("T", (("M", None),))


def test_builtin_translation_uses_the_language_asked_for_not_the_active_one():
    entry = get_entry("appointment_unavailable")
    with override("en"):
        assert entry.localized("pl")[0] == "Termin niedostępny"
        assert entry.localized("es")[0] == "Cita no disponible"
        assert entry.localized("en")[0] == "Appointment unavailable"


@pytest.mark.parametrize("language", ["pl", "es"])
def test_every_builtin_text_ships_translated(language):
    """The committed .mo files cover every built-in title, message and description."""
    texts = [t for e in BUILTIN_ERRORS for t in (e.title, e.message, e.description) if t]
    with override(language):
        untranslated = [t for t in texts if gettext(t) == t]
    assert untranslated == []


@pytest.mark.parametrize("language", ["pl", "es"])
def test_translated_templates_keep_their_placeholders(language):
    from apierrors.dictionary.message_template import placeholders

    with override(language):
        for e in BUILTIN_ERRORS:
            assert sorted(placeholders(gettext(e.message))) == sorted(placeholders(e.message))


def test_admin_labels_are_translated(admin_client):
    response = admin_client.get("/admin/apierrors/errorcode/", HTTP_ACCEPT_LANGUAGE="pl")
    html = response.content.decode()
    assert "słownik błędów" in html.lower()
    assert "klasa statusu" in html
