"""The dictionary as a spreadsheet for django-import-export (``pip install apierrors[admin]``).

One row per entry, identified by ``key`` (the natural key), so an import updates entries by
key and a file moves between environments whatever their database ids. Each language in
``settings.LANGUAGES`` other than ``LANGUAGE_CODE`` gets a ``title_<lang>`` and a
``message_<lang>`` column, so the file can go to a translator and come back. Rows run through
the model's validation (placeholders, status range, duplicate codes), and invalid ones are
listed in the admin's dry-run preview instead of being saved.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from import_export import fields, resources

from .message_template import placeholders
from .models import ErrorCode, ErrorTranslation, check_placeholders

_PENDING = "_apierrors_pending_translations"


class TranslationField(fields.Field):
    """``title_pl`` / ``message_pl``: one part of one language's ErrorTranslation."""

    def __init__(self, language: str, part: str) -> None:
        super().__init__(attribute=f"translation_{part}_{language}",
                         column_name=f"{part}_{language}", default="")
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
        instance.__dict__.setdefault(_PENDING, {})[(self.language, self.part)] = (
            "" if value is None else str(value).strip())


def translation_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


class ErrorCodeResource(resources.ModelResource):
    class Meta:
        model = ErrorCode
        import_id_fields = ["key"]
        fields = ["key", "error_code", "status", "title", "message", "fhir_code", "severity",
                  "is_public", "description"]
        clean_model_instances = True  # the model's validation, as in the admin form
        skip_unchanged = True
        report_skipped = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for language in translation_languages():
            for part in ("title", "message"):
                field = TranslationField(language, part)
                self.fields[field.column_name] = field

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
                    exc.message_dict.get(column, []) if hasattr(exc, "error_dict")
                    else exc.messages)
        if errors:
            raise ValidationError(errors)

    def after_save_instance(self, instance: ErrorCode, row: Any, **kwargs: Any) -> None:
        if kwargs.get("dry_run") and not kwargs.get("using_transactions"):
            return  # nothing was saved, so nothing to attach translations to
        pending = instance.__dict__.pop(_PENDING, {})
        for language in {lang for lang, _part in pending}:
            current = {t.language: t for t in instance.translations.all()}.get(language)
            title = pending.get((language, "title"),
                                current.title if current else "")
            message = pending.get((language, "message"),
                                  current.message if current else "")
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
