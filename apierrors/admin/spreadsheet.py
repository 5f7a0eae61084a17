"""Text cells a spreadsheet shows as text: no formula injection (OWASP "CSV Injection").

Entry text is typed by staff or imported, and the exported files go to translators and
partners who open them in Excel, LibreOffice or Google Sheets. Those evaluate a cell that
starts with ``=``, ``+``, ``-`` or ``@`` (also after a tab or carriage return, and in the
full-width forms an IME types), so ``=HYPERLINK(...)`` or ``+cmd|' /C calc'!A0`` would run.

In CSV such a cell gets OWASP's leading apostrophe, which spreadsheets read as "text follows".
A cell that already starts with an apostrophe gets one too, so that the escape is reversible:
importing a file we wrote takes exactly one apostrophe off exactly those cells and restores the
original text. (XLSX has a real string type; see ``resources.SpreadsheetSafeXLSX``.)
"""

from typing import Any

QUOTE = "'"
# What makes a spreadsheet parse a cell as a formula, with the full-width forms
# (U+FF1D = U+FF0B + U+FF0D - U+FF20 @) that Excel's IME input accepts as well.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Leading blanks some importers trim ("Trim spaces") before they look at the first character.
_BLANKS = " \u3000"


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could evaluate ``text`` typed or read into a cell."""
    return text.lstrip(_BLANKS).startswith(FORMULA_STARTS)


def _needs_quote(text: str) -> bool:
    return text.startswith(QUOTE) or looks_like_formula(text)


def escape_cell(value: Any) -> Any:
    """A CSV cell's text with OWASP's apostrophe when it needs one; other values as they are."""
    if isinstance(value, str) and _needs_quote(value):
        return QUOTE + value
    return value


def unescape_cell(value: Any) -> Any:
    """Undo ``escape_cell``: one apostrophe off a cell it would have escaped, nothing else.

    An apostrophe before anything else (``'tis``) is the text's own and stays.
    """
    if isinstance(value, str) and value.startswith(QUOTE) and _needs_quote(value[1:]):
        return value[1:]
    return value
