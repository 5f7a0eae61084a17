"""The published dictionary (JSON, HTML, one page per entry) and the export command."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.http import http_date

from apierrors.models import ErrorCode

from ..factories import ErrorCodeFactory, ErrorTranslationFactory

pytestmark = pytest.mark.django_db

JSON_URL = reverse("apierrors:dictionary-json")
HTML_URL = reverse("apierrors:dictionary")


@pytest.fixture
def internal():
    return ErrorCodeFactory(
        key="fraud_suspected",
        error_code=9999,
        is_public=False,
        title="Fraud suspected",
        message="Internal only.",
    )


def keys_of(response) -> list[str]:
    return [e["key"] for e in response.json()["errors"]]


# -- JSON ----------------------------------------------------------------------------------


def test_json_lists_public_entries_by_code(client, internal):
    response = client.get(JSON_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    entries = response.json()["errors"]
    assert [e["error_code"] for e in entries] == sorted(e["error_code"] for e in entries)
    assert "fraud_suspected" not in keys_of(response)
    unknown = next(e for e in entries if e["key"] == "unknown_resource")
    assert unknown == {
        "key": "unknown_resource",
        "error_code": 8,
        "status": 404,
        "title": "Unknown resource",
        "message": "Unknown {resource} resource '{id}'",
        "description": "The requested resource doesn't exist (it might have been deleted).",
        "fhir_code": "not-found",
        "severity": "error",
        "type": "http://testserver/errors/unknown_resource/",
    }


def test_json_caching_headers(client):
    response = client.get(JSON_URL)
    assert response["ETag"].startswith('"') and len(response["ETag"]) > 10
    assert response["Cache-Control"] == "public, max-age=60"
    assert "Accept-Language" in response["Vary"]
    newest = ErrorCode.objects.latest("updated_at").updated_at
    assert response["Last-Modified"] == http_date(newest.timestamp())


def test_json_answers_304_to_if_none_match(client):
    etag = client.get(JSON_URL)["ETag"]
    response = client.get(JSON_URL, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert client.get(JSON_URL, HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_json_answers_304_to_if_modified_since(client):
    last_modified = client.get(JSON_URL)["Last-Modified"]
    assert client.get(JSON_URL, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    assert (
        client.get(JSON_URL, HTTP_IF_MODIFIED_SINCE="Mon, 01 Jan 2001 00:00:00 GMT").status_code
        == 200
    )


def test_an_edit_changes_etag_and_content(client, django_capture_on_commit_callbacks):
    before = client.get(JSON_URL)
    with django_capture_on_commit_callbacks(execute=True):
        entry = ErrorCode.objects.get(key="conflict")
        entry.message = "Someone else changed it first."
        entry.save()
    after = client.get(JSON_URL, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    conflict = next(e for e in after.json()["errors"] if e["key"] == "conflict")
    assert conflict["message"] == "Someone else changed it first."


def test_each_language_has_its_own_etag(client):
    english = client.get(JSON_URL)
    polish = client.get(JSON_URL, HTTP_ACCEPT_LANGUAGE="pl")
    assert polish.json()["language"] == "pl"
    assert polish["ETag"] != english["ETag"]
    assert (
        client.get(
            JSON_URL, HTTP_ACCEPT_LANGUAGE="pl", HTTP_IF_NONE_MATCH=english["ETag"]
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({}, {"HTTP_ACCEPT_LANGUAGE": "es"}),
        ({"lang": "es"}, {"HTTP_ACCEPT_LANGUAGE": "pl"}),  # ?lang wins: a link for a partner
    ],
)
def test_json_in_the_requested_language(client, params, headers):
    entries = client.get(JSON_URL, params, **headers).json()["errors"]
    unknown = next(e for e in entries if e["key"] == "unknown_resource")
    assert unknown["message"] == "Recurso {resource} desconocido: '{id}'"
    assert unknown["title"] == "Recurso desconocido"
    assert (
        unknown["description"] == "El recurso solicitado no existe (puede que se haya eliminado)."
    )


def test_json_keeps_literal_braces_escaped(client):
    ErrorCodeFactory(key="braces", message="Use {{id}} literally, {thing} is filled.")
    entry = next(e for e in client.get(JSON_URL).json()["errors"] if e["key"] == "braces")
    assert entry["message"] == "Use {{id}} literally, {thing} is filled."


def test_translation_rows_are_published(client):
    entry = ErrorCodeFactory(key="slot_taken", message="Slot {thing} taken")
    ErrorTranslationFactory(
        error=entry, language="pl", title="Zajęte", message="Termin {thing} zajęty"
    )
    published = client.get(JSON_URL, HTTP_ACCEPT_LANGUAGE="pl").json()["errors"]
    row = next(e for e in published if e["key"] == "slot_taken")
    assert (row["title"], row["message"]) == ("Zajęte", "Termin {thing} zajęty")


def test_only_safe_methods(client):
    assert client.post(JSON_URL).status_code == 405
    assert client.head(JSON_URL).status_code == 200


# -- HTML ----------------------------------------------------------------------------------


def test_html_page_lists_public_entries(client, internal):
    response = client.get(HTML_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<tr id="unknown_resource">' in html
    assert "Unknown {resource} resource &#x27;{id}&#x27;" in html
    assert 'href="/errors/unknown_resource/"' in html
    assert "fraud_suspected" not in html and "Internal only." not in html
    assert response["ETag"] and response["Last-Modified"]
    assert client.get(HTML_URL, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_html_page_escapes_entry_text(client):
    ErrorCodeFactory(key="xss", title="<img src=x onerror=alert(1)>", message="<b>x</b>")
    html = client.get(HTML_URL).content.decode()
    assert "<img src=x" not in html and "<b>x</b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_html_page_in_polish(client):
    html = client.get(HTML_URL, {"lang": "pl"}).content.decode()
    assert '<html lang="pl">' in html
    assert "Słownik błędów" in html
    assert "Nieznany zasób {resource} &#x27;{id}&#x27;" in html


# -- one page per entry, the RFC 9457 type ---------------------------------------------------


def test_problem_type_resolves_to_the_entrys_page(client_north, client):
    problem = client_north.get(
        "/api/v1/patients/a47c7b0ebbb442cdbc4adf259d148ea1/", HTTP_ACCEPT="application/problem+json"
    ).json()
    assert problem["type"] == "http://testserver/errors/unknown_resource/"
    page = client.get(problem["type"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>Unknown resource</h1>" in html
    assert "<code>8</code>" in html
    assert "Unknown {resource} resource &#x27;{id}&#x27;" in html
    assert "application/problem+json" in html  # the example responses
    assert page["ETag"] and page["Cache-Control"] == "public, max-age=60"


def test_internal_and_unknown_entries_have_no_page(client, internal):
    assert client.get(reverse("apierrors:entry", kwargs={"key": internal.key})).status_code == 404
    assert client.get(reverse("apierrors:entry", kwargs={"key": "no_such"})).status_code == 404


def test_internal_entry_still_answers_errors_with_its_page_hidden(internal):
    # Leaving an entry out of the dictionary does not change what the API answers.
    from apierrors.dictionary.catalog import get_entry

    assert get_entry("fraud_suspected").error_code == 9999


# -- export command ------------------------------------------------------------------------


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("export_error_codes", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_export_json_matches_the_published_dictionary(internal):
    data = json.loads(export())
    assert data["language"] == "en"
    keys = [e["key"] for e in data["errors"]]
    assert "unknown_resource" in keys and "fraud_suspected" not in keys
    unknown = next(e for e in data["errors"] if e["key"] == "unknown_resource")
    assert unknown["type"] == "/errors/unknown_resource/"


def test_export_with_base_url_gives_absolute_types():
    data = json.loads(export("--base-url", "https://api.example.com/"))
    assert data["errors"][0]["type"].startswith("https://api.example.com/errors/")


def test_export_internal_on_request(internal):
    keys = [e["key"] for e in json.loads(export("--include-internal"))["errors"]]
    assert "fraud_suspected" in keys


def test_export_csv_in_polish():
    rows = list(csv.DictReader(io.StringIO(export("--format", "csv", "--language", "pl"))))
    row = next(r for r in rows if r["key"] == "appointment_unavailable")
    assert row == {
        "error_code": "1",
        "status": "422",
        "key": "appointment_unavailable",
        "title": "Termin niedostępny",
        "message": "Ten termin wizyty nie jest już dostępny.",
        "description": "Ktoś inny zarezerwował ten termin między wyszukaniem a rezerwacją.",
        "fhir_code": "business-rule",
        "severity": "error",
    }


def test_export_markdown_table_to_a_file(tmp_path):
    ErrorCodeFactory(key="pipes", title="A | B", message="line\nbreak <x>")
    target = tmp_path / "dictionary.md"
    assert export("--format", "markdown", "--output", str(target)) == ""
    text = target.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "| error_code | HTTP status | key | message |"
    assert (
        "| 8 | 404 | `unknown_resource` | **Unknown resource**<br>Unknown {resource} "
        "resource '{id}' |" in lines
    )
    assert any("**A \\| B**<br>line break \\<x>" in line for line in lines)


def test_export_refuses_unknown_language():
    with pytest.raises(CommandError, match="Unknown language 'de'"):
        export("--language", "de")


# -- shared caches and the language cookie ----------------------------------------------------


class SharedCache:
    """A shared HTTP cache (a CDN or a proxy) as RFC 9111 has it, reduced to what matters here:
    it stores a response unless it is ``private``/``no-store``, and serves it to a later
    request whose headers named in ``Vary`` are the same."""

    def __init__(self, client) -> None:
        self.client, self.stored = client, []

    def get(self, url: str, **headers):
        for stored_url, varied, response in self.stored:
            if stored_url == url and all(headers.get(h) == v for h, v in varied.items()):
                return response
        response = self.client.get(url, **headers)
        control = response.get("Cache-Control", "")
        if response.status_code == 200 and "private" not in control and "no-store" not in control:
            vary = [v.strip() for v in response.get("Vary", "").split(",") if v.strip()]
            names = ["HTTP_" + v.upper().replace("-", "_") for v in vary]
            self.stored.append((url, {n: headers.get(n) for n in names}, response))
        return response


def entry_url() -> str:
    return reverse("apierrors:entry", kwargs={"key": "unknown_resource"})


PAGES = [
    pytest.param(lambda: JSON_URL, id="json"),
    pytest.param(lambda: HTML_URL, id="html"),
    pytest.param(entry_url, id="entry"),
]
POLISH_COOKIE = {"HTTP_COOKIE": "django_language=pl"}


@pytest.mark.parametrize("page", PAGES)
def test_a_shared_cache_never_serves_the_cookies_language_to_others(client, page):
    cache = SharedCache(client)
    polish = cache.get(page(), **POLISH_COOKIE)
    assert "Nieznany zasób" in polish.content.decode()  # the cookie chose Polish
    assert "Nieznany zasób" not in cache.get(page()).content.decode()
    assert "Nieznany zasób" not in cache.get(page(), HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.parametrize("page", PAGES)
def test_a_shared_cache_never_serves_the_default_language_to_the_cookie(client, page):
    cache = SharedCache(client)
    assert "Nieznany zasób" not in cache.get(page()).content.decode()
    assert "Nieznany zasób" in cache.get(page(), **POLISH_COOKIE).content.decode()


@pytest.mark.parametrize("page", PAGES)
def test_cache_headers_say_what_chose_the_language(client, page):
    by_cookie = client.get(page(), **POLISH_COOKIE)
    assert by_cookie["Cache-Control"] == "private, max-age=60"  # one reader's choice
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in by_cookie["Vary"].split(",")}
    by_header = client.get(page(), HTTP_ACCEPT_LANGUAGE="pl")
    assert by_header["Cache-Control"] == "public, max-age=60"
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in by_header["Vary"].split(",")}
    by_url = client.get(page(), {"lang": "pl"}, **POLISH_COOKIE)  # the link to send
    assert by_url["Cache-Control"] == "public, max-age=60"
    assert "Cookie" not in by_url["Vary"]
    # 304s carry the same caching headers.
    again = client.get(page(), HTTP_IF_NONE_MATCH=by_cookie["ETag"], **POLISH_COOKIE)
    assert (again.status_code, again["Cache-Control"]) == (304, "private, max-age=60")
