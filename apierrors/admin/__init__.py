"""The dictionary in the Django admin: ``dictionary.py`` (the ``ErrorCode`` admin, imported here
so that the admin's autodiscovery registers it), ``resources.py`` (import/export) and
``spreadsheet.py`` (the formula escape for spreadsheet cells)."""

from .dictionary import ErrorCodeAdmin, ErrorTranslationInline

__all__ = ["ErrorCodeAdmin", "ErrorTranslationInline"]
