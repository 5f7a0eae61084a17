"""What an entry's error response looks like, rendered by the code that renders real ones.

The admin's change page and the published entry pages show these examples. They go through
the handler's own ``respond()`` and each format's ``render()``, so a preview can never drift
from what callers receive; only the template parameters are samples.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import override

from ..dictionary.catalog import Entry, translation_for
from ..dictionary.declared import DECLARED
from ..dictionary.message_template import parse_template
from ..formats import BUILTIN_FORMATS, get_format
from ..handling.handler import get_handler
from ..handling.normalized import NormalizedError
from ..models import ENTRY_FIELDS

# Sample values for the built-in placeholders; any other name shows as <name>.
SAMPLE_PARAMS: dict[str, str] = {
    "resource": "Patient",
    "id": "a47c7b0ebbb442cdbc4adf259d148ea1",
    "method": "DELETE",
    "media_type": "text/plain",
}
SAMPLE_INSTANCE = "/api/v1/patients/a47c7b0ebbb442cdbc4adf259d148ea1/"
SAMPLE_REQUEST_ID = "3f2a9c1e5b7d4e08"


@dataclass(frozen=True, slots=True)
class FormatPreview:
    name: str
    status_line: str
    headers: list[tuple[str, str]]
    body: str  # pretty-printed JSON, not yet HTML-escaped


@dataclass(frozen=True, slots=True)
class LanguagePreview:
    language: str
    language_name: str
    title: str
    message: str
    source: str  # where the text comes from, for support staff
    formats: list[FormatPreview]


def entry_from_values(
    values: Mapping[str, Any], translations: Mapping[str, tuple[str, str]] | None = None
) -> Entry:
    """An ``Entry`` built from (possibly unsaved) field values, as the catalog builds one."""
    key = str(values.get("key") or "")
    return Entry(
        key=key,
        error_code=_int(values.get("error_code")),
        status=_int(values.get("status")),
        title=str(values.get("title") or ""),
        message=str(values.get("message") or ""),
        fhir_code=str(values.get("fhir_code") or "processing"),
        severity=str(values.get("severity") or "error"),
        description=str(values.get("description") or ""),
        is_public=bool(values.get("is_public", True)),
        translations=dict(translations or {}),
        declared=DECLARED.get(key),
    )


def entry_from_instance(obj: Any) -> Entry:
    """An ``Entry`` for a saved ``ErrorCode`` row (its translations included)."""
    values = {f: getattr(obj, f) for f in ENTRY_FIELDS}
    translations = {}
    if obj.pk is not None:
        translations = {t.language: (t.title, t.message) for t in obj.translations.all()}
    return entry_from_values(values, translations)


def text_source(entry: Entry, language: str) -> str:
    """Where a caller in ``language`` gets the message from, in Entry.localized()'s order:
    "translation" (an ErrorTranslation), "built-in" (the shipped gettext text, the entry
    being unedited) or "entry" (the entry's own text)."""
    translated = translation_for(entry.translations, language)
    if translated is not None and translated[1]:
        return "translation"
    if entry.declared is not None and entry.message == entry.declared.message:
        return "built-in"
    return "entry"


def sample_params(entry: Entry) -> dict[str, str]:
    names: set[str] = set()
    for template in (entry.message, *(m for _t, m in entry.translations.values())):
        try:
            names.update(n for _lit, n in parse_template(template) if n)
        except Exception:  # shown elsewhere as a validation error
            continue
    return {n: SAMPLE_PARAMS.get(n, f"<{n}>") for n in names}


def render_formats(
    entry: Entry, request: HttpRequest | None, formats: Iterable[str] = tuple(BUILTIN_FORMATS)
) -> list[FormatPreview]:
    """Each format's response for ``entry`` in the active language, via the real pipeline."""
    handler = get_handler()
    out = []
    for name in formats:
        error = NormalizedError(
            entry=entry,
            message=entry.render_message(sample_params(entry)),
            instance=SAMPLE_INSTANCE,
            request_id=SAMPLE_REQUEST_ID if entry.status >= 500 else None,
        )
        response = handler.respond(error, get_format(name), request)
        body = json.dumps(json.loads(response.content), indent=2, ensure_ascii=False)
        try:
            phrase = HTTPStatus(entry.status).phrase
        except ValueError:
            phrase = ""
        headers = [
            (k, v)
            for k, v in response.items()
            if k.lower() not in ("vary", "allow", "x-frame-options")
        ]
        out.append(FormatPreview(name, f"HTTP {entry.status} {phrase}".rstrip(), headers, body))
    return out


def preview(
    entry: Entry, request: HttpRequest | None, languages: Iterable[tuple[str, str]] | None = None
) -> list[LanguagePreview]:
    """The four bodies in each language (default: ``settings.LANGUAGES``)."""
    result = []
    for code, name in languages if languages is not None else settings.LANGUAGES:
        with override(code):
            title, _parsed = entry.localized(code)
            result.append(
                LanguagePreview(
                    language=code,
                    language_name=str(name),
                    title=str(title),
                    message=entry.render_message(sample_params(entry)),
                    source=text_source(entry, code),
                    formats=render_formats(entry, request),
                )
            )
    return result


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
