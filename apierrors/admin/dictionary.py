"""The error dictionary in the Django admin, for the support and integration staff who own it.

- The changelist shows each entry's status, origin and languages at a glance.
- The change page shows the response body in all four formats, in every language, rendered by
  the handler itself, and updates it while you type (``<id>/preview/``).
- Keys declared in code are read-only and those entries cannot be deleted: code raises them.
- Two admins saving the same ``error_code``, ``key`` or translation language at the same
  moment: the database refuses the second save, which comes back as the form's error (nothing
  of it saved), not as a 500.
- Import/export (CSV, JSON, XLSX, with a dry-run preview) when django-import-export is
  installed (``pip install apierrors[admin]``) and in INSTALLED_APPS; without it, the same
  admin minus the import/export buttons.
"""

from typing import Any

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, router, transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext, override
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from ..dictionary.catalog import shipped_text, translation_for
from ..dictionary.declared import DECLARED
from ..dictionary.message_template import parse_template
from ..handling.integrity import UniqueViolation, unique_violation
from ..models import ENTRY_FIELDS, ErrorCode, ErrorTranslation
from ..published.preview import entry_from_instance, entry_from_values, preview
from ..stats.admin import ErrorStatsAdminMixin

try:  # optional: apierrors[admin]
    from import_export.admin import ImportExportModelAdmin
    from import_export.forms import ImportForm

    from .resources import (
        MAX_IMPORT_BYTES,
        BoundedJSON,
        ErrorCodeResource,
        SpreadsheetSafeCSV,
        SpreadsheetSafeXLSX,
        TooManyRows,
    )
except ImportError:  # pragma: no cover - exercised by the subprocess test
    ImportExportModelAdmin = None

IMPORT_EXPORT = ImportExportModelAdmin is not None and apps.is_installed("import_export")
# On the request: the unique constraint the database enforced against this POST's first try.
_CLASH_ATTR = "_apierrors_unique_clash"


def _other_languages() -> list[tuple[str, str]]:
    """settings.LANGUAGES without the default: the entry's own text is the default language."""
    return [(c, n) for c, n in settings.LANGUAGES if c != settings.LANGUAGE_CODE]


def _has_builtin_translation(obj: ErrorCode, language: str) -> bool:
    """The entry's message is the unedited built-in one and a shipped .mo translates it."""
    declared = DECLARED.get(obj.key)
    if declared is None:
        return False
    with override(language):
        return shipped_text(obj.message, declared.message) != obj.message


def _translated_languages(obj: ErrorCode) -> list[str]:
    rows = {t.language: (t.title, t.message) for t in obj.translations.all()}
    return [
        c
        for c, _n in _other_languages()
        if (translation_for(rows, c) or ("", ""))[1] or _has_builtin_translation(obj, c)
    ]


class StatusClassFilter(admin.SimpleListFilter):
    title = _("status class")
    parameter_name = "status_class"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("4", _("4xx: the caller's mistake")), ("5", _("5xx: our failure"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("4", "5"):
            low = int(self.value()) * 100
            return queryset.filter(status__gte=low, status__lte=low + 99)
        return queryset


class OriginFilter(admin.SimpleListFilter):
    title = _("origin")
    parameter_name = "origin"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("builtin", _("Built-in, as shipped")),
            ("edited", _("Built-in, edited")),
            ("custom", _("Added here")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "custom":
            return queryset.exclude(key__in=list(DECLARED))
        if self.value() in ("builtin", "edited"):
            want_edited = self.value() == "edited"
            pks = [
                o.pk
                for o in queryset.filter(key__in=list(DECLARED))
                if (origin_of(o) == "edited") == want_edited
            ]
            return queryset.filter(pk__in=pks)
        return queryset


class MissingTranslationFilter(admin.SimpleListFilter):
    title = _("missing translation")
    parameter_name = "missing"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(c, n) for c, n in _other_languages()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        code = self.value()
        if code not in dict(_other_languages()):
            return queryset
        pks = [
            o.pk
            for o in queryset.prefetch_related("translations")
            if code not in _translated_languages(o)
        ]
        return queryset.filter(pk__in=pks)


def origin_of(obj: ErrorCode) -> str:
    declared = DECLARED.get(obj.key)
    if declared is None:
        return "custom"
    if any(getattr(obj, f) != v for f, v in declared.values().items() if f != "key"):
        return "edited"
    return "builtin"


class ErrorCodeForm(forms.ModelForm):
    # Fields whose value the database refused as taken, after this form had validated it
    # (another admin's save committed in between; see ErrorCodeAdmin.changeform_view).
    unique_clash: tuple[str, ...] = ()

    class Meta:
        model = ErrorCode
        fields = list(ENTRY_FIELDS)
        widgets = {
            "message": forms.Textarea(attrs={"rows": 2, "cols": 80}),
            "description": forms.Textarea(attrs={"rows": 3, "cols": 80}),
        }

    def validate_unique(self) -> None:
        super().validate_unique()
        for name in self.unique_clash:
            if name in self.errors:
                continue  # the model's own check sees the other entry now, and names it
            self.add_error(
                name if name in self.fields else None,
                ValidationError(
                    _(
                        "%(field)s %(value)s was just taken by an entry saved at the same moment. "
                        "Choose another."
                    ),
                    code="unique",
                    params={"field": name, "value": getattr(self.instance, name, "")},
                ),
            )


class ErrorTranslationForm(forms.ModelForm):
    language = forms.ChoiceField(label=_("language"), choices=())

    class Meta:
        model = ErrorTranslation
        fields = ["language", "title", "message"]
        widgets = {"message": forms.Textarea(attrs={"rows": 2, "cols": 60})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", "---------"), *settings.LANGUAGES]


class _TranslationClashFormSet:
    """Mixed into the inline formset when the database refused one of its languages."""

    def clean(self) -> None:
        super().clean()  # type: ignore[misc]
        if not any(form.errors for form in self.forms):  # type: ignore[attr-defined]
            raise ValidationError(
                gettext(
                    "A translation in one of these languages was saved by someone else at the "
                    "same moment. Reload the page to see it, then edit that one."
                ),
                code="unique",
            )


class ErrorTranslationInline(admin.TabularInline):
    model = ErrorTranslation
    form = ErrorTranslationForm
    extra = 0
    verbose_name_plural = _("translations (blank parts fall back to the text above)")

    def get_formset(self, request: HttpRequest, obj: ErrorCode | None = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        clash: UniqueViolation | None = getattr(request, _CLASH_ATTR, None)
        if clash is None or clash.model is not ErrorTranslation:
            return formset
        return type(formset.__name__, (_TranslationClashFormSet, formset), {})


if IMPORT_EXPORT:

    class BoundedImportForm(ImportForm):
        """The import form, refusing a file bigger than any dictionary before reading it."""

        def clean_import_file(self) -> Any:
            upload = self.cleaned_data["import_file"]
            if upload is not None and upload.size > MAX_IMPORT_BYTES:
                raise ValidationError(
                    gettext(
                        "The file is %(size)d MB; an error dictionary fits in %(max)d MB. Check "
                        "that this is the right file."
                    )
                    % {
                        "size": -(-upload.size // (1024 * 1024)),
                        "max": MAX_IMPORT_BYTES // (1024 * 1024),
                    }
                )
            return upload


_AdminBase: Any = ImportExportModelAdmin if IMPORT_EXPORT else admin.ModelAdmin


@admin.register(ErrorCode)
class ErrorCodeAdmin(ErrorStatsAdminMixin, _AdminBase):  # + error statistics (stats/admin.py)
    form = ErrorCodeForm
    list_display = [
        "key",
        "error_code",
        "status_badge",
        "title",
        "message",
        "languages",
        "origin",
        "is_public",
    ]
    list_display_links = ["key"]
    list_filter = [
        StatusClassFilter,
        "status",
        OriginFilter,
        MissingTranslationFilter,
        "is_public",
        "fhir_code",
        "severity",
    ]
    search_fields = [
        "key",
        "=error_code",
        "title",
        "message",
        "description",
        "translations__title",
        "translations__message",
    ]
    ordering = ["error_code"]
    list_per_page = 100
    save_on_top = True  # the preview makes the page long
    inlines = [ErrorTranslationInline]
    actions = ["delete_selected"]
    fieldsets = [
        (None, {"fields": ["key", "error_code", "status", "title", "message"]}),
        (_("Formats"), {"fields": ["fhir_code", "severity"]}),
        (_("Published dictionary"), {"fields": ["is_public", "description"]}),
    ]
    change_form_template = "admin/apierrors/errorcode/change_form.html"

    class Media:
        css = {"all": ["apierrors/admin.css"]}
        js = ["apierrors/admin-preview.js"]

    if IMPORT_EXPORT:
        resource_classes = [ErrorCodeResource]
        # Text can't become a spreadsheet formula, and an export imports back exactly.
        import_formats = [SpreadsheetSafeCSV, BoundedJSON, SpreadsheetSafeXLSX]
        export_formats = [SpreadsheetSafeCSV, BoundedJSON, SpreadsheetSafeXLSX]
        import_form_class = BoundedImportForm

        def add_data_read_fail_error_to_form(self, form: Any, e: Exception) -> None:
            # The library names only the exception's class; these two say what to do.
            if isinstance(e, UnicodeDecodeError):
                form.add_error(
                    "import_file",
                    gettext(
                        "The file is not UTF-8 text. Save it as \u201cCSV UTF-8\u201d (Excel) or "
                        "with the UTF-8 character set (LibreOffice, Google Sheets) and upload "
                        "it again."
                    ),
                )
            elif isinstance(e, TooManyRows):
                form.add_error("import_file", str(e))
            else:
                super().add_data_read_fail_error_to_form(form, e)

        @method_decorator(require_POST)
        def process_import(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
            """The confirm step, minus its 500s: a second click on "Confirm import" (the
            file was used up by the first), or a format the form never offered."""
            if not self.has_import_permission(request):
                raise PermissionDenied
            confirm_form = self.create_confirm_form(request)
            if confirm_form.is_valid():
                index = confirm_form.cleaned_data["format"]
                if not (index.isdigit() and int(index) < len(self.get_import_formats())):
                    return self._import_again(
                        request,
                        gettext("That import format is not offered here. Upload the file again."),
                    )
            try:
                return super().process_import(request, **kwargs)
            except FileNotFoundError:
                return self._import_again(
                    request,
                    gettext(
                        "This import was already confirmed, or its upload has expired. Check "
                        "the dictionary, and upload the file again if it is still needed."
                    ),
                )

        def _import_again(self, request: HttpRequest, message: str) -> HttpResponse:
            self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(
                reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_import",
                    current_app=self.admin_site.name,
                )
            )

        def has_import_permission(self, request: HttpRequest) -> bool:
            # django-import-export lets any staff user import by default; importing adds and
            # changes rows, so it takes both permissions (a view-only user gets neither).
            return self.has_add_permission(request) and self.has_change_permission(request)

        def has_export_permission(self, request: HttpRequest) -> bool:
            return self.has_view_or_change_permission(request)

    # -- saving at the same moment as another admin --------------------------------------

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The change form; a save the database refuses as a duplicate becomes form errors.

        The form checks ``error_code`` and ``key`` against the table, but another admin's
        save can commit between that check and this INSERT. The unique constraint then
        refuses it: the savepoint drops everything this try wrote (the entry, its
        translations, the log entry) and the form is shown again with the error.
        """
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        try:
            with transaction.atomic(using=router.db_for_write(self.model)):
                return super().changeform_view(request, object_id, form_url, extra_context)
        except IntegrityError as exc:
            clash = unique_violation(exc, ErrorCode)
            if (
                clash is None
                or clash.model not in (ErrorCode, ErrorTranslation)
                or hasattr(request, _CLASH_ATTR)
            ):
                raise
            setattr(request, _CLASH_ATTR, clash)
        # The second try fails validation (get_form / the inline see the clash): no save.
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(
        self,
        request: HttpRequest,
        obj: ErrorCode | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        clash: UniqueViolation | None = getattr(request, _CLASH_ATTR, None)
        if clash is None or clash.model is not ErrorCode:
            return form
        return type(form.__name__, (form,), {"unique_clash": clash.fields})

    # -- changelist ----------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("translations")

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: ErrorCode) -> str:
        return format_html(
            '<span class="apierrors-status apierrors-s{}">{}</span>', obj.status // 100, obj.status
        )

    @admin.display(description=_("translated"))
    def languages(self, obj: ErrorCode) -> str:
        done = set(_translated_languages(obj))
        return format_html_join(
            " ",
            '<span class="apierrors-lang apierrors-lang-{}" title="{}">{}</span>',
            (("yes" if c in done else "no", n, c) for c, n in _other_languages()),
        )

    @admin.display(description=_("origin"))
    def origin(self, obj: ErrorCode) -> str:
        return {
            "builtin": gettext("built-in"),
            "edited": gettext("built-in, edited"),
            "custom": gettext("added here"),
        }[origin_of(obj)]

    # -- keys code depends on ------------------------------------------------------------

    def get_readonly_fields(self, request: HttpRequest, obj: ErrorCode | None = None) -> list[str]:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.is_declared:
            readonly.append("key")  # code raises this entry by its key
        return readonly

    def has_delete_permission(self, request: HttpRequest, obj: ErrorCode | None = None) -> bool:
        if obj is not None and obj.is_declared:
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(permissions=["delete"], description=_("Delete selected entries added here"))
    def delete_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Django's bulk delete, minus the built-in entries (which would come back anyway)."""
        kept = queryset.filter(key__in=list(DECLARED))
        if kept.exists():
            self.message_user(
                request,
                ngettext(
                    "%(count)d built-in entry was kept: code raises it by its key.",
                    "%(count)d built-in entries were kept: code raises them by their key.",
                    kept.count(),
                )
                % {"count": kept.count()},
                messages.WARNING,
            )
        rest = queryset.exclude(key__in=list(DECLARED))
        if not rest.exists():
            return None
        return django_delete_selected(self, request, rest)

    # -- the live preview ----------------------------------------------------------------

    def get_urls(self) -> list:
        name = f"{self.opts.app_label}_{self.opts.model_name}_preview"
        view = self.admin_site.admin_view(self.preview_view)
        return [
            path("preview/", view, name=name),
            path("<path:object_id>/preview/", view, name=name),
            *super().get_urls(),
        ]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: ErrorCode | None = None,
    ) -> HttpResponse:
        saved = None
        if obj is not None and obj.pk is not None:
            # Re-read: after a failed POST, ``obj`` holds the rejected values.
            saved = self.get_queryset(request).filter(pk=obj.pk).first()
        context.update(
            {
                "apierrors_base_template": (
                    "admin/import_export/change_form.html"
                    if IMPORT_EXPORT
                    else "admin/change_form.html"
                ),
                "apierrors_preview": self.render_preview(request, saved),
                "apierrors_preview_url": reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_preview",
                    current_app=self.admin_site.name,
                    kwargs={"object_id": saved.pk} if saved else None,
                ),
            }
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def render_preview(self, request: HttpRequest, obj: ErrorCode | None) -> str:
        """The saved entry's preview (on the add page: an invitation to fill the form)."""
        entry = entry_from_instance(obj) if obj is not None else None
        return _render_fragment(request, entry, unsaved=False, errors={})

    def preview_view(self, request: HttpRequest, object_id: str | None = None) -> HttpResponse:
        """The change form's current values → the preview fragment (nothing is saved)."""
        obj = self.get_object(request, object_id) if object_id else None
        if object_id and obj is None:
            raise Http404(object_id)
        if not self.has_view_or_change_permission(request, obj):
            return HttpResponse(status=403)
        if request.method != "POST" or not (
            self.has_change_permission(request, obj) if obj else self.has_add_permission(request)
        ):
            return HttpResponse(self.render_preview(request, obj))
        form = self.get_form(request, obj, change=obj is not None)(
            request.POST, instance=obj or ErrorCode()
        )
        form.is_valid()  # fills form.instance with the values given; errors shown with them
        instance = form.instance
        entry_values = {f: getattr(instance, f) for f in ENTRY_FIELDS}
        translations = _posted_translations(request.POST)
        if translations is None and obj is not None:
            translations = {t.language: (t.title, t.message) for t in obj.translations.all()}
        errors = {
            form.fields[k].label if k in form.fields else k: v for k, v in form.errors.items()
        }
        for language, (_title, message) in (translations or {}).items():
            try:
                parse_template(message)
            except ValidationError as exc:
                errors[gettext("message template") + f" [{language}]"] = exc.messages
        entry = None
        if "status" not in form.errors and "message" not in form.errors:
            entry = entry_from_values(entry_values, translations)
        return HttpResponse(_render_fragment(request, entry, unsaved=True, errors=errors))


def _render_fragment(
    request: HttpRequest, entry: Any, *, unsaved: bool, errors: dict[str, Any]
) -> str:
    renderable = entry is not None and 400 <= entry.status <= 599
    return render_to_string(
        "admin/apierrors/errorcode/preview.html",
        {
            "languages": preview(entry, request) if renderable else [],
            "unsaved": unsaved,
            "errors": errors,
        },
        request=request,
    )


def _posted_translations(data: Any) -> dict[str, tuple[str, str]] | None:
    """The inline's rows as typed (management-form prefix ``translations``)."""
    try:
        total = int(data.get("translations-TOTAL_FORMS", ""))
    except ValueError:
        return None
    out = {}
    for i in range(min(total, 1000)):
        prefix = f"translations-{i}-"
        language = data.get(prefix + "language", "")
        if not language or data.get(prefix + "DELETE"):
            continue
        title, message = data.get(prefix + "title", ""), data.get(prefix + "message", "")
        if title or message:
            out[language] = (title, message)
    return out
