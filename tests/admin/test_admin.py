"""The error dictionary's admin: changelist, preview, protected built-ins, validation, roles."""

import json
import re
from html import unescape

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse

from apierrors.models import ErrorCode, ErrorTranslation

from ..factories import ErrorCodeFactory, ErrorTranslationFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:apierrors_errorcode_changelist")
UNKNOWN_ID = "a47c7b0ebbb442cdbc4adf259d148ea1"


def change_url(obj: ErrorCode) -> str:
    return reverse("admin:apierrors_errorcode_change", args=[obj.pk])


def form_data(obj: ErrorCode, translations=(), **changes) -> dict:
    """The change form as a browser would post it, with ``changes`` applied."""
    data = {
        f: getattr(obj, f)
        for f in (
            "key",
            "error_code",
            "status",
            "title",
            "message",
            "fhir_code",
            "severity",
            "description",
        )
    }
    data["is_public"] = "on" if obj.is_public else ""
    data.update(changes)
    existing = list(obj.translations.all()) if obj.pk else []
    data.update(
        {
            "translations-TOTAL_FORMS": str(len(existing) + len(translations)),
            "translations-INITIAL_FORMS": str(len(existing)),
            "translations-MIN_NUM_FORMS": "0",
            "translations-MAX_NUM_FORMS": "1000",
        }
    )
    for i, t in enumerate(existing):
        data.update(
            {
                f"translations-{i}-id": t.pk,
                f"translations-{i}-error": obj.pk,
                f"translations-{i}-language": t.language,
                f"translations-{i}-title": t.title,
                f"translations-{i}-message": t.message,
            }
        )
    for j, (language, title, message) in enumerate(translations, start=len(existing)):
        data.update(
            {
                f"translations-{j}-language": language,
                f"translations-{j}-title": title,
                f"translations-{j}-message": message,
            }
        )
    return {k: v for k, v in data.items() if v is not None}


def errors_text(response) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))


def changelist_row(html: str, key: str) -> str:
    return next(row for row in html.split("<tr") if f">{key}</a>" in row)


def preview_bodies(html: str) -> dict[str, dict]:
    """format name → body of the first (default-language) preview block."""
    block = html.split('class="apierrors-lang-preview"')[1]
    found = re.findall(
        r'data-format="([a-z]+)">.*?<pre class="apierrors-body">(.*?)</pre>',
        block.split("</details>")[0],
        re.S,
    )
    return {name: json.loads(unescape(body)) for name, body in found}


# -- changelist ------------------------------------------------------------------------------


def test_changelist_shows_status_origin_and_languages(admin_client):
    ErrorCodeFactory(key="slot_taken", status=409)
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<span class="apierrors-status apierrors-s4">404</span>' in html
    assert '<span class="apierrors-status apierrors-s5">500</span>' in html
    assert "added here" in html and "built-in" in html
    # Built-ins are translated by the shipped .mo files: pl and es shown as done.
    row = changelist_row(html, "unknown_resource")
    assert 'apierrors-lang-yes" title="Polish">pl<' in row
    assert 'apierrors-lang-yes" title="Spanish">es<' in row
    custom = changelist_row(html, "slot_taken")
    assert 'apierrors-lang-no" title="Polish">pl<' in custom


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("unknown_res", {"unknown_resource"}),  # key
        ("8", {"unknown_resource"}),  # error_code, exactly
        ("no longer available", {"appointment_unavailable"}),  # message text
        ("Zajęte", {"slot_taken"}),  # a translation's text
        ("abc-not-a-number", set()),  # no 500 on the integer field
    ],
)
def test_search_by_key_code_and_text(admin_client, query, expected):
    slot = ErrorCodeFactory(key="slot_taken", error_code=1001)
    ErrorTranslationFactory(error=slot, language="pl", title="Zajęte", message="")
    response = admin_client.get(CHANGELIST, {"q": query})
    assert response.status_code == 200
    keys = {o.key for o in response.context["cl"].result_list}
    assert keys == expected


@pytest.mark.parametrize(
    ("params", "included", "excluded"),
    [
        ({"status_class": "5"}, {"internal_error", "service_unavailable"}, {"unknown_resource"}),
        ({"origin": "custom"}, {"slot_taken"}, {"unknown_resource"}),
        ({"origin": "edited"}, {"conflict", "protected"}, {"unknown_resource", "slot_taken"}),
        ({"origin": "builtin"}, {"unknown_resource"}, {"conflict", "slot_taken"}),
        ({"missing": "pl"}, {"slot_taken", "conflict"}, {"unknown_resource", "translated"}),
        ({"is_public__exact": "0"}, {"hidden"}, {"unknown_resource"}),
    ],
)
def test_filters(admin_client, params, included, excluded):
    ErrorCodeFactory(key="slot_taken")
    ErrorCodeFactory(key="hidden", is_public=False)
    translated = ErrorCodeFactory(key="translated")
    ErrorTranslationFactory(error=translated, language="pl", message="Po polsku {thing}")
    ErrorCode.objects.filter(key="conflict").update(message="Edited by support.")
    ErrorCode.objects.filter(key="protected").update(description="Also for bookings.")
    response = admin_client.get(CHANGELIST, params)
    assert response.status_code == 200
    keys = {o.key for o in response.context["cl"].result_list}
    assert included <= keys
    assert not excluded & keys


# -- change page: the preview ----------------------------------------------------------------


def test_change_page_previews_all_four_formats_as_the_api_answers(admin_client, client_north):
    entry = ErrorCode.objects.get(key="unknown_resource")
    html = admin_client.get(change_url(entry)).content.decode()
    bodies = preview_bodies(html)
    assert set(bodies) == {"fhir", "docplanner", "shipstream", "problem"}
    # The preview's sample request is the seed's own 404, so the real answers must match.
    path = f"/api/v1/patients/{UNKNOWN_ID}/"
    assert client_north.get(path).json() == bodies["fhir"]
    assert (
        client_north.get(path, HTTP_ACCEPT="application/problem+json").json() == bodies["problem"]
    )
    assert bodies["docplanner"] == {"error_code": 8}
    assert bodies["problem"]["type"] == "http://testserver/errors/unknown_resource/"
    assert "Content-Type: application/fhir+json" in html


def test_preview_shows_every_language_and_where_its_text_comes_from(admin_client):
    entry = ErrorCodeFactory(key="slot_taken", message="Slot {slot} was just booked.")
    ErrorTranslationFactory(
        error=entry,
        language="pl",
        title="Termin zajęty",
        message="Termin {slot} został właśnie zarezerwowany.",
    )
    html = admin_client.get(change_url(entry)).content.decode()
    rows = dict(re.findall(r'<tr data-language="(\w+)">(.*?)</tr>', html, re.S))
    assert set(rows) == {"en", "pl", "es"}
    assert "Termin &lt;slot&gt; został właśnie zarezerwowany." in rows["pl"]
    assert "its translation" in rows["pl"]
    assert "Slot &lt;slot&gt; was just booked." in rows["es"]  # no Spanish: the entry's text
    assert "the message above" in rows["es"]


def test_preview_is_html_escaped(admin_client):
    entry = ErrorCodeFactory(title="<script>alert(1)</script>", message='<b>bold</b> & "q"')
    html = admin_client.get(change_url(entry)).content.decode()
    preview = html.split('id="apierrors-preview"')[1]
    assert "<script>alert(1)</script>" not in preview
    assert "<b>bold</b>" not in preview
    assert "&lt;b&gt;bold&lt;/b&gt; &amp;" in preview


def test_live_preview_renders_unsaved_values_without_saving(admin_client):
    entry = ErrorCode.objects.get(key="appointment_unavailable")
    url = reverse("admin:apierrors_errorcode_preview", kwargs={"object_id": entry.pk})
    data = form_data(
        entry,
        [("pl", "", "Ten termin właśnie zajęto.")],
        message="Someone was faster.",
        status="409",
    )
    response = admin_client.post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-state="unsaved"' in html
    assert "HTTP 409 Conflict" in html
    assert "Someone was faster." in html and "Ten termin właśnie zajęto." in html
    entry.refresh_from_db()
    assert entry.message == "This appointment time is no longer available."
    assert not ErrorTranslation.objects.filter(error=entry).exists()


def test_live_preview_reports_what_would_be_refused(admin_client):
    entry = ErrorCodeFactory()
    url = reverse("admin:apierrors_errorcode_preview", kwargs={"object_id": entry.pk})
    response = admin_client.post(url, form_data(entry, message="Bad {0.__class__}"))
    text = errors_text(response)
    assert "Placeholder {0.__class__} is not allowed" in text
    assert "apierrors-body" not in response.content.decode()


def test_preview_of_a_missing_entry_is_404(admin_client):
    url = reverse("admin:apierrors_errorcode_preview", kwargs={"object_id": 999999})
    assert admin_client.post(url, {"message": "x"}).status_code == 404


def test_add_page_previews_as_you_type(admin_client):
    html = admin_client.get(reverse("admin:apierrors_errorcode_add")).content.decode()
    assert "Fill in the status and the message" in html
    response = admin_client.post(
        reverse("admin:apierrors_errorcode_preview"),
        {
            "key": "new_one",
            "error_code": "777",
            "status": "422",
            "title": "New",
            "message": "Hello {resource}",
            "fhir_code": "business-rule",
            "severity": "error",
        },
    )
    assert "Hello Patient" in response.content.decode()


# -- built-in keys -------------------------------------------------------------------------


def test_declared_key_is_read_only_but_text_is_editable(admin_client):
    entry = ErrorCode.objects.get(key="unknown_resource")
    html = admin_client.get(change_url(entry)).content.decode()
    assert 'name="key"' not in html
    assert 'name="message"' in html
    data = form_data(entry, key="renamed", message="No {resource} with id {id}.")
    response = admin_client.post(change_url(entry), data)
    assert response.status_code == 302
    entry.refresh_from_db()
    assert (entry.key, entry.message) == ("unknown_resource", "No {resource} with id {id}.")


def test_custom_key_is_editable(admin_client):
    entry = ErrorCodeFactory(key="old_key")
    assert 'name="key"' in admin_client.get(change_url(entry)).content.decode()
    admin_client.post(change_url(entry), form_data(entry, key="new_key"))
    entry.refresh_from_db()
    assert entry.key == "new_key"


def test_declared_entry_cannot_be_deleted(admin_client):
    entry = ErrorCode.objects.get(key="unknown_resource")
    url = reverse("admin:apierrors_errorcode_delete", args=[entry.pk])
    assert admin_client.get(url).status_code == 403
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert ErrorCode.objects.filter(key="unknown_resource").exists()
    custom = ErrorCodeFactory()
    url = reverse("admin:apierrors_errorcode_delete", args=[custom.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not ErrorCode.objects.filter(pk=custom.pk).exists()


def test_bulk_delete_skips_built_ins(admin_client):
    builtin = ErrorCode.objects.get(key="conflict")
    custom = ErrorCodeFactory()
    selected = [builtin.pk, custom.pk]
    confirm = admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": selected}
    )
    assert confirm.status_code == 200
    assert "1 built-in entry was kept" in errors_text(confirm)
    assert [o.pk for o in confirm.context["queryset"]] == [custom.pk]
    done = admin_client.post(
        CHANGELIST, {"action": "delete_selected", "post": "yes", "_selected_action": selected}
    )
    assert done.status_code == 302
    assert ErrorCode.objects.filter(pk=builtin.pk).exists()
    assert not ErrorCode.objects.filter(pk=custom.pk).exists()


def test_bulk_delete_of_only_built_ins_deletes_nothing(admin_client):
    builtin = ErrorCode.objects.get(key="conflict")
    response = admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [builtin.pk]}, follow=True
    )
    assert "1 built-in entry was kept" in errors_text(response)
    assert ErrorCode.objects.filter(pk=builtin.pk).exists()


# -- validation messages -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"error_code": "8"},
            "error_code 8 is already used by unknown_resource. Partners map each code to one error",
        ),
        ({"message": "Oops {0.__class__}"}, "Placeholder {0.__class__} is not allowed"),
        ({"message": "Oops {"}, "The message template does not parse"),
        ({"status": "302"}, "302 is not an error status: use a 4xx"),
        ({"status": "600"}, "600 is not an error status"),
    ],
)
def test_clear_validation_messages(admin_client, changes, message):
    entry = ErrorCodeFactory()
    response = admin_client.post(change_url(entry), form_data(entry, **changes))
    assert response.status_code == 200
    assert message in errors_text(response)
    # One message per problem, not Django's generic ones next to ours.
    text = errors_text(response)
    assert "already exists" not in text and "Constraint" not in text
    assert "greater than or equal" not in text


def test_declared_entry_refuses_placeholders_the_code_does_not_fill(admin_client):
    entry = ErrorCode.objects.get(key="unknown_resource")
    response = admin_client.post(change_url(entry), form_data(entry, message="No {patient} here"))
    assert (
        "{patient} is not filled in by the code. Placeholders available here: "
        "{resource}, {id}." in errors_text(response)
    )


def test_translation_placeholders_must_be_the_entrys(admin_client):
    entry = ErrorCodeFactory(message="Slot {slot} taken")
    response = admin_client.post(
        change_url(entry), form_data(entry, [("pl", "", "Termin {termin} zajęty")])
    )
    assert response.status_code == 200
    assert (
        "{termin} is not filled in by the code. Placeholders available here: {slot}."
        in errors_text(response)
    )
    assert not ErrorTranslation.objects.exists()


def test_one_translation_per_language(admin_client):
    entry = ErrorCodeFactory()
    response = admin_client.post(
        change_url(entry), form_data(entry, [("pl", "A", ""), ("pl", "B", "")])
    )
    assert response.status_code == 200
    assert "Please correct the duplicate data for language" in errors_text(response)


def test_translations_are_edited_inline_and_reach_the_api(
    admin_client, client_north, django_capture_on_commit_callbacks
):
    entry = ErrorCode.objects.get(key="unknown_resource")
    data = form_data(
        entry,
        [("pl", "Brak zasobu", "Brak zasobu {resource} o id {id}.")],
        message="No {resource} with id {id}.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(change_url(entry), data).status_code == 302
    path = f"/api/v1/patients/{UNKNOWN_ID}/"
    english = client_north.get(path).json()["issue"][0]["details"]["text"]
    polish = client_north.get(path, HTTP_ACCEPT_LANGUAGE="pl").json()["issue"][0]["details"]
    assert english == f"No Patient with id {UNKNOWN_ID}."
    assert polish["text"] == f"Brak zasobu Patient o id {UNKNOWN_ID}."


# -- roles and history ---------------------------------------------------------------------


@pytest.fixture
def viewer_client(client):
    """Staff with Django's view permissions only: the "view only" role."""
    user = UserFactory(username="viewer", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="apierrors", codename__startswith="view_")
    )
    client.force_login(user)
    return client


def test_view_only_role_can_read_everything_and_change_nothing(viewer_client):
    entry = ErrorCode.objects.get(key="unknown_resource")
    assert viewer_client.get(CHANGELIST).status_code == 200
    page = viewer_client.get(change_url(entry))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and 'name="message"' not in html
    assert "apierrors-body" in html  # the preview is there for readers too
    assert viewer_client.post(change_url(entry), form_data(entry, message="x")).status_code == 403
    assert viewer_client.get(reverse("admin:apierrors_errorcode_add")).status_code == 403
    assert (
        viewer_client.get(reverse("admin:apierrors_errorcode_history", args=[entry.pk])).status_code
        == 200
    )
    # Posting to the preview renders the saved entry: a reader cannot preview edits.
    preview = viewer_client.post(
        reverse("admin:apierrors_errorcode_preview", kwargs={"object_id": entry.pk}),
        form_data(entry, message="Changed"),
    )
    assert preview.status_code == 200 and "Changed" not in preview.content.decode()
    entry.refresh_from_db()
    assert entry.message == "Unknown {resource} resource '{id}'"


def test_staff_without_permissions_sees_nothing(client):
    user = UserFactory(username="nobody", is_staff=True)
    client.force_login(user)
    entry = ErrorCode.objects.get(key="unknown_resource")
    assert client.get(CHANGELIST).status_code == 403
    assert (
        client.get(
            reverse("admin:apierrors_errorcode_preview", kwargs={"object_id": entry.pk})
        ).status_code
        == 403
    )


def test_history_is_in_the_admin_log(admin_client):
    entry = ErrorCode.objects.get(key="appointment_unavailable")
    admin_client.post(
        change_url(entry),
        form_data(entry, [("es", "", "Esa hora ya está reservada.")], message="Slot gone."),
    )
    log = LogEntry.objects.get(object_id=str(entry.pk), action_flag=CHANGE)
    assert log.user.username == "admin"
    message = log.get_change_message()
    assert "Changed Message template" in message
    assert "Added translation" in message
    history = admin_client.get(reverse("admin:apierrors_errorcode_history", args=[entry.pk]))
    assert "Changed Message template" in history.content.decode()
