"""The admin's import of a hostile or broken file: a clear error on the page, never a 500,
never a silent change to the dictionary."""

import io
import re
from html import unescape

import openpyxl
import pytest
import tablib
from django.urls import reverse

from apierrors.admin.resources import MAX_IMPORT_BYTES, MAX_IMPORT_ROWS
from apierrors.models import ErrorCode

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("admin:apierrors_errorcode_import")
PROCESS_URL = reverse("admin:apierrors_errorcode_process_import")
FORMATS = {"csv": 0, "json": 1, "xlsx": 2}
HEADERS = ["key", "error_code", "status", "title", "message", "fhir_code", "severity"]


def csv_file(*rows, headers=HEADERS) -> bytes:
    data = tablib.Dataset(headers=headers)
    for row in rows:
        data.append(row)
    return data.export("csv").encode()


def entry(key="slot_taken", code=7400, **values) -> list:
    row = {
        "key": key,
        "error_code": code,
        "status": 409,
        "title": "Slot taken",
        "message": "Taken.",
        "fhir_code": "conflict",
        "severity": "error",
        **values,
    }
    return [row[h] for h in HEADERS] + [row[h] for h in values if h not in HEADERS]


def upload(admin_client, content: bytes, fmt: str = "csv"):
    file = io.BytesIO(content)
    file.name = f"dictionary.{fmt}"
    return admin_client.post(
        IMPORT_URL, {"import_file": file, "format": FORMATS[fmt], "resource": 0}
    )


def text(response) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))


def row_errors(preview) -> dict:
    result = preview.context["result"]
    return {row.number: row.error_dict for row in result.invalid_rows}


def test_a_file_in_another_encoding_says_how_to_save_it(admin_client):
    content = csv_file(entry(title="Zażółć gęślą jaźń")).decode().encode("cp1250")
    preview = upload(admin_client, content)
    assert preview.status_code == 200
    assert "The file is not UTF-8 text. Save it as “CSV UTF-8”" in text(preview)
    assert not ErrorCode.objects.filter(key="slot_taken").exists()


def test_a_key_twice_in_one_file_is_refused_not_last_row_wins(admin_client):
    preview = upload(admin_client, csv_file(entry(title="First"), entry(title="Second")))
    assert row_errors(preview) == {
        2: {
            "key": [
                "slot_taken is also on row 1: list each entry once, or the last row would silently "
                "win."
            ]
        }
    }
    assert preview.context.get("confirm_form") is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("7.5", "7.5 is not a whole number."),
        ("abc", "abc is not a whole number."),
        ("7e3", "7e3 is not a whole number."),
    ],
)
def test_codes_must_be_whole_numbers(admin_client, value, message):
    preview = upload(admin_client, csv_file(entry(code=value), entry("fine", "7401.0")))
    assert row_errors(preview) == {1: {"error_code": [message]}}  # a spreadsheet's 7401.0 is


@pytest.mark.parametrize("value", ["yes", "maybe", "ja"])
def test_is_public_must_be_a_boolean_not_silently_false(admin_client, value):
    preview = upload(
        admin_client, csv_file(entry(is_public=value), headers=[*HEADERS, "is_public"])
    )
    assert row_errors(preview)[1]["is_public"] == [f"{value} is not one of 1, 0, true, false."]


def test_null_characters_are_refused_as_in_the_admin_form(admin_client):
    preview = upload(admin_client, csv_file(entry(title="Slot\x00taken")))
    assert row_errors(preview)[1]["title"] == ["Null characters are not allowed."]


def test_too_many_rows_are_refused_before_any_is_validated(
    admin_client, django_assert_max_num_queries
):
    rows = [entry(key=f"k{i}", code=10000 + i) for i in range(MAX_IMPORT_ROWS + 1)]
    with django_assert_max_num_queries(20):  # the session and the user, not 1001 rows
        preview = upload(admin_client, csv_file(*rows))
    assert f"The file has more than {MAX_IMPORT_ROWS} rows" in text(preview)


def test_a_file_bigger_than_any_dictionary_is_refused_unread(admin_client):
    content = csv_file(entry(description="x" * MAX_IMPORT_BYTES), headers=[*HEADERS, "description"])
    preview = upload(admin_client, content)
    assert preview.status_code == 200
    assert "an error dictionary fits in 5 MB" in text(preview)


def test_an_xlsx_declaring_a_huge_sheet_is_read_only_as_far_as_it_has_data(admin_client):
    # Two real rows, then one cell a million rows down and 16000 columns across.
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    sheet.append(entry())
    sheet.cell(row=1_000_000, column=16_000, value="far away")
    content = io.BytesIO()
    book.save(content)
    preview = upload(admin_client, content.getvalue(), "xlsx")
    result = preview.context["result"]
    assert not result.has_errors() and not result.has_validation_errors()
    assert [row.import_type for row in result.rows] == ["new"]


def test_confirming_the_same_import_twice(admin_client):
    preview = upload(admin_client, csv_file(entry()))
    form = preview.context["confirm_form"].initial
    first = admin_client.post(PROCESS_URL, {**form, "resource": 0})
    assert first.status_code == 302
    again = admin_client.post(PROCESS_URL, {**form, "resource": 0}, follow=True)
    assert again.status_code == 200
    assert "This import was already confirmed" in text(again)
    assert ErrorCode.objects.filter(key="slot_taken").count() == 1


@pytest.mark.parametrize("fmt", ["9", "x", "-1"])
def test_a_confirm_form_with_a_format_never_offered(admin_client, fmt):
    preview = upload(admin_client, csv_file(entry()))
    form = preview.context["confirm_form"].initial
    response = admin_client.post(PROCESS_URL, {**form, "format": fmt, "resource": 0}, follow=True)
    assert response.status_code == 200
    assert "That import format is not offered here" in text(response)
    assert not ErrorCode.objects.filter(key="slot_taken").exists()
