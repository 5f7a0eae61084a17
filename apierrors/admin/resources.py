"""The dictionary as a spreadsheet for django-import-export (``pip install apierrors[admin]``).

One row per entry, identified by ``key`` (the natural key), so an import updates entries by
key and a file moves between environments whatever their database ids. Each language in
``settings.LANGUAGES`` other than ``LANGUAGE_CODE`` gets a ``title_<lang>`` and a
``message_<lang>`` column, so the file can go to a translator and come back. Rows run through
the model's validation (placeholders, status range, duplicate codes), and invalid ones are
listed in the admin's dry-run preview instead of being saved.

The admin writes and reads CSV and XLSX through ``SpreadsheetSafeCSV`` / ``SpreadsheetSafeXLSX``:
entry text can't turn into a formula in the translator's spreadsheet, and a file we wrote
imports back to exactly the text it came from (``apierrors.spreadsheet``).

An uploaded file is untrusted input even from staff: numbers must be whole numbers (7.5 is
not read as 7), ``is_public`` one of 1/0/true/false (a typo doesn't unpublish an entry), a key
may appear once per file (not "the last row wins"), text may not hold NUL characters, and a
file may hold at most ``MAX_IMPORT_ROWS`` rows (each row is validated against the database).
"""

import re
from typing import Any

import tablib
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from import_export import fields, resources, widgets
from import_export.formats import base_formats

from ..dictionary.message_template import placeholders
from ..models import ENTRY_FIELDS, ErrorCode, ErrorTranslation, check_placeholders
from .spreadsheet import escape_cell, looks_like_formula, unescape_cell

_PENDING = "_apierrors_pending_translations"
_SEEN_KEYS = "_apierrors_seen_keys"

# A dictionary has tens to hundreds of entries; every row costs a few queries to validate,
# twice (dry run, then the import), so a bigger file is a mistake or an attack.
MAX_IMPORT_ROWS = 1000
MAX_IMPORT_BYTES = 5 * 1024 * 1024
# Columns read from an XLSX sheet (ours has 9 + 2 per language); the rest is ignored.
MAX_IMPORT_COLUMNS = 200


class TooManyRows(ValueError):
    """The file is bigger than any dictionary: refused before a row is validated."""

    def __init__(self) -> None:
        super().__init__(
            gettext(
                "The file has more than %(max)d rows; an error dictionary is far smaller. "
                "Split it, or check that this is the right file."
            )
            % {"max": MAX_IMPORT_ROWS}
        )


def _check_rows(count: int) -> None:
    if count > MAX_IMPORT_ROWS:
        raise TooManyRows


class WholeNumberWidget(widgets.IntegerWidget):
    """A whole number or a clear error: the library reads 7.5 as 7 and says
    "[<class 'decimal.ConversionSyntax'>]" for "abc"."""

    _WHOLE = re.compile(r"[+-]?[0-9]{1,19}(?:\.0*)?")

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> int | None:
        if self.is_empty(value):
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)  # a spreadsheet's number
        text = str(value).strip()
        if not self._WHOLE.fullmatch(text):
            raise ValueError(gettext("%(value)s is not a whole number.") % {"value": text[:50]})
        return int(text.split(".")[0])


class StrictBooleanWidget(widgets.BooleanWidget):
    """1/0/true/false (any case); anything else is an error, not False."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> bool | None:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower() if value is not None else ""
        if text in ("1", "true"):
            return True
        if text in ("0", "false"):
            return False
        raise ValueError(
            gettext("%(value)s is not one of 1, 0, true, false.") % {"value": str(value)[:50]}
        )


class TranslationField(fields.Field):
    """``title_pl`` / ``message_pl``: one part of one language's ErrorTranslation."""

    def __init__(self, language: str, part: str) -> None:
        super().__init__(
            attribute=f"translation_{part}_{language}", column_name=f"{part}_{language}", default=""
        )
        self.language, self.part = language, part

    def get_value(self, instance: ErrorCode) -> str:
        pending = instance.__dict__.get(_PENDING, {})
        if (self.language, self.part) in pending:
            return pending[(self.language, self.part)]
        if instance.pk is None:
            return ""
        for translation in instance.translations.all():
            if translation.language == self.language:
                return getattr(translation, self.part)
        return ""

    def save(self, instance: ErrorCode, row: Any, is_m2m: bool = False, **kwargs: Any) -> None:
        # Kept on the instance until it is saved (it may be new and have no pk yet).
        value = self.clean(row, **kwargs)
        # Not stripped: the cell's text exactly, as for the entry's own columns.
        instance.__dict__.setdefault(_PENDING, {})[(self.language, self.part)] = (
            "" if value is None else str(value)
        )


def translation_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


class ErrorCodeResource(resources.ModelResource):
    error_code = fields.Field(
        attribute="error_code", column_name="error_code", widget=WholeNumberWidget()
    )
    status = fields.Field(attribute="status", column_name="status", widget=WholeNumberWidget())
    is_public = fields.Field(
        attribute="is_public", column_name="is_public", widget=StrictBooleanWidget()
    )

    class Meta:
        model = ErrorCode
        import_id_fields = ["key"]
        fields = list(ENTRY_FIELDS)
        clean_model_instances = True  # the model's validation, as in the admin form
        skip_unchanged = True
        report_skipped = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for language in translation_languages():
            for part in ("title", "message"):
                field = TranslationField(language, part)
                self.fields[field.column_name] = field

    def before_import(self, dataset: tablib.Dataset, **kwargs: Any) -> None:
        _check_rows(len(dataset))  # also for a dataset that no format of ours read
        setattr(self, _SEEN_KEYS, {})

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        # Spreadsheets give None for an empty cell: that is blank text, and a blank
        # "is_public" cell means "leave it as it is" (a new entry is public).
        for column in list(row.keys()):
            if row[column] is None:
                row[column] = ""
        if row.get("is_public", None) == "":
            del row["is_public"]

    def get_queryset(self) -> Any:
        return super().get_queryset().prefetch_related("translations")

    def import_instance(self, instance: ErrorCode, row: Any, **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        for column, value in row.items():
            if isinstance(value, str) and "\x00" in value:  # as the admin's forms refuse it
                errors.setdefault(column, []).append(gettext("Null characters are not allowed."))
        key, number = row.get("key"), kwargs.get("row_number")
        seen = getattr(self, _SEEN_KEYS, None)
        if seen is not None and key:
            if key in seen:
                errors.setdefault("key", []).append(
                    gettext(
                        "%(key)s is also on row %(row)s: list each entry once, or the last row "
                        "would silently win."
                    )
                    % {"key": key, "row": seen[key]}
                )
            else:
                seen[key] = number
        pending = instance.__dict__.get(_PENDING, {})
        try:
            allowed = placeholders(instance.message)
        except ValidationError:
            allowed = None  # the message's own error is reported by full_clean
        for (language, part), value in pending.items():
            if part != "message" or not value:
                continue
            column = f"message_{language}"
            try:
                ErrorTranslation._meta.get_field("message").run_validators(value)
                if allowed is not None:
                    check_placeholders(value, allowed, column)
            except ValidationError as exc:
                errors.setdefault(column, []).extend(
                    exc.message_dict.get(column, []) if hasattr(exc, "error_dict") else exc.messages
                )
        if errors:
            raise ValidationError(errors)

    def after_save_instance(self, instance: ErrorCode, row: Any, **kwargs: Any) -> None:
        if kwargs.get("dry_run") and not kwargs.get("using_transactions"):
            return  # nothing was saved, so nothing to attach translations to
        pending = instance.__dict__.pop(_PENDING, {})
        for language in {lang for lang, _part in pending}:
            current = {t.language: t for t in instance.translations.all()}.get(language)
            title = pending.get((language, "title"), current.title if current else "")
            message = pending.get((language, "message"), current.message if current else "")
            if not title and not message:
                if current is not None:
                    current.delete()  # both cells emptied: the translation goes
                continue
            if current is None:
                current = ErrorTranslation(error=instance, language=language)
            current.title, current.message = title, message
            current.save()
        if pending and hasattr(instance, "_prefetched_objects_cache"):
            instance._prefetched_objects_cache.pop("translations", None)


def _map_cells(dataset: tablib.Dataset, function: Any) -> tablib.Dataset:
    mapped = tablib.Dataset(headers=dataset.headers, title=dataset.title)
    for row in dataset:
        mapped.append([function(cell) for cell in row])
    return mapped


class SpreadsheetSafeCSV(base_formats.CSV):
    """CSV whose text cells can't run as formulas (OWASP's apostrophe), reversibly.

    Read and written as bytes, UTF-8 with a byte order mark (so Excel reads Polish as
    Polish): the library's text mode would turn a carriage return inside a cell into a
    line feed on the way through its temporary file.
    """

    def is_binary(self) -> bool:
        return True

    def get_read_mode(self) -> str:
        return "rb"

    def create_dataset(self, in_stream: Any, **kwargs: Any) -> tablib.Dataset:
        if isinstance(in_stream, bytes):
            in_stream = in_stream.decode(self.encoding or "utf-8-sig")
        dataset = super().create_dataset(in_stream, **kwargs)
        _check_rows(len(dataset))
        return _map_cells(dataset, unescape_cell)

    def export_data(self, dataset: tablib.Dataset, **kwargs: Any) -> bytes:
        # Not the library's IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT: it deletes a leading "="
        # (the text can't come back) and leaves + - @ alone.
        text = _map_cells(dataset, escape_cell).export(self.get_title(), **kwargs)
        return text.encode(self.encoding or "utf-8-sig")


# OOXML's escape for characters XML can't carry: "_x000D_" is a carriage return (an XML
# parser would read a raw one as a line feed), and a literal "_x000D_" is "_x005F_x000D_".
_OOXML_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_OOXML_LITERAL = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
_OOXML_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")


def _ooxml_escape(text: str) -> str:
    text = _OOXML_LITERAL.sub("_x005F_", text)
    return _OOXML_CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)


def _ooxml_unescape(value: Any) -> Any:
    if isinstance(value, str) and "_x" in value:
        return _OOXML_ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), value)
    return value


_BLANK_ROWS_AT_END = 100


class SpreadsheetSafeXLSX(base_formats.XLSX):
    """XLSX whose text is stored as strings, never formulas, with Excel's quote prefix on
    formula-like text (so editing the cell keeps it text). The text itself is unchanged;
    a formula cell in an uploaded file gives its last computed value, never the formula."""

    def create_dataset(self, in_stream: Any) -> tablib.Dataset:
        """The first sheet, read as a stream and bounded: a few compressed kilobytes can
        declare a sheet of a million rows by 16384 columns."""
        from io import BytesIO

        import openpyxl

        # data_only: a formula cell gives the value it last showed, never the formula.
        book = openpyxl.load_workbook(BytesIO(in_stream), read_only=True, data_only=True)
        try:
            sheet = book.active
            rows = sheet.iter_rows(max_col=MAX_IMPORT_COLUMNS, values_only=True)
            headers = list(next(rows, ()))
            while headers and headers[-1] is None:
                headers.pop()
            dataset = tablib.Dataset(headers=[_ooxml_unescape(h) for h in headers])
            blank = 0
            for values in rows:
                values = list(values[: len(headers)])
                if all(v is None for v in values):
                    blank += 1  # a formatted but empty range; a long run of them is the end
                    if blank > _BLANK_ROWS_AT_END:
                        break
                    continue
                blank = 0
                _check_rows(len(dataset) + 1)
                dataset.append(
                    [_ooxml_unescape(v) for v in values] + [None] * (len(headers) - len(values))
                )
        finally:
            book.close()
        return dataset

    def export_data(self, dataset: tablib.Dataset, **kwargs: Any) -> bytes:
        from io import BytesIO

        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        book = Workbook()
        sheet = book.active
        sheet.title = "dictionary"
        headers = list(dataset.headers or [])
        widths: dict[int, int] = {}
        for r, values in enumerate([headers, *dataset] if headers else dataset, start=1):
            for c, value in enumerate(values, start=1):
                cell = sheet.cell(row=r, column=c)
                if isinstance(value, str):
                    cell.value = _ooxml_escape(value)
                    cell.data_type = "s"  # openpyxl takes "=..." for a formula
                    if looks_like_formula(value):
                        cell.quotePrefix = True
                    if "\n" in value:
                        cell.alignment = Alignment(wrap_text=True)
                else:
                    cell.value = value
                widths[c] = max(widths.get(c, 0), min(len(str(value or "")), 60))
        if headers:
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            sheet.freeze_panes = "A2"
        for c, width in widths.items():
            sheet.column_dimensions[get_column_letter(c)].width = width + 2
        out = BytesIO()
        book.save(out)
        return out.getvalue()


class BoundedJSON(base_formats.JSON):
    """The library's JSON, with the same row limit as the other formats."""

    def create_dataset(self, in_stream: Any, **kwargs: Any) -> tablib.Dataset:
        dataset = super().create_dataset(in_stream, **kwargs)
        _check_rows(len(dataset))
        return dataset


# The admin exports numbers as numbers only for the formats in this list (compared by type).
if SpreadsheetSafeXLSX not in base_formats.BINARY_FORMATS:
    base_formats.BINARY_FORMATS.append(SpreadsheetSafeXLSX)
