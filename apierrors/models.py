"""The error dictionary: one ErrorCode row per error the API can return."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .dictionary.declared import DECLARED, DeclaredError
from .dictionary.message_template import parse_template, placeholders

# FHIR R4 IssueType value set (http://hl7.org/fhir/R4/valueset-issue-type.html).
FHIR_ISSUE_TYPES = (
    "invalid",
    "structure",
    "required",
    "value",
    "invariant",
    "security",
    "login",
    "unknown",
    "expired",
    "forbidden",
    "suppressed",
    "processing",
    "not-supported",
    "duplicate",
    "multiple-matches",
    "not-found",
    "deleted",
    "too-long",
    "code-invalid",
    "extension",
    "too-costly",
    "business-rule",
    "conflict",
    "transient",
    "lock-error",
    "no-store",
    "exception",
    "timeout",
    "incomplete",
    "throttled",
    "informational",
)
FHIR_SEVERITIES = ("fatal", "error", "warning", "information")

# A dictionary entry's own fields, in the admin's order: the ErrorCode columns an admin edits,
# imports and exports, and the catalog's Entry is built from (translations aside).
ENTRY_FIELDS = (
    "key",
    "error_code",
    "status",
    "title",
    "message",
    "fhir_code",
    "severity",
    "is_public",
    "description",
)


def validate_template(value: str) -> None:
    parse_template(value)


def validate_error_status(value: int) -> None:
    """One clear message instead of Django's two range messages plus a constraint's."""
    if not 400 <= value <= 599:
        raise ValidationError(
            _(
                "%(value)s is not an error status: use a 4xx (the caller's mistake) or 5xx "
                "(ours) code, between 400 and 599."
            ),
            code="status_range",
            params={"value": value},
        )


def _placeholder_list(names: list[str]) -> str:
    return ", ".join("{" + n + "}" for n in names) or "—"


def check_placeholders(template: str, allowed: list[str], field: str) -> None:
    """Refuse placeholders the code never fills (they would reach callers as ``{name}``)."""
    try:
        used = placeholders(template)
    except ValidationError:
        return  # the field's own validator reports the syntax error
    unknown = [name for name in used if name not in allowed]
    if unknown:
        raise ValidationError(
            {
                field: ValidationError(
                    _(
                        "%(unknown)s is not filled in by the code. Placeholders available here: "
                        "%(allowed)s."
                    ),
                    code="template_unknown_placeholder",
                    params={
                        "unknown": _placeholder_list(unknown),
                        "allowed": _placeholder_list(allowed),
                    },
                )
            }
        )


def reserved_by(error_code: int | None, key: str) -> DeclaredError | None:
    """The entry declared in code whose ``error_code`` this is, if it is not ``key``'s own.

    A declared code stays its entry's even when the entry's row is deleted or edited to
    another code: code still raises the key, the declaration answers for a missing row with
    the declared code, and ``sync_error_codes`` writes it back with that code.
    """
    for declared in DECLARED.values():  # a few dozen entries, and declare() may add more
        if declared.error_code == error_code and declared.key != key:
            return declared
    return None


def _reserved_error(declared: DeclaredError) -> ValidationError:
    return ValidationError(
        {
            "error_code": ValidationError(
                _(
                    "error_code %(code)s is reserved for the built-in entry %(owner)s, which code "
                    "declares with it (even while its row is deleted). Choose another code."
                ),
                code="reserved",
                params={"code": declared.error_code, "owner": declared.key},
            )
        }
    )


class ErrorCodeManager(models.Manager):
    def get_by_natural_key(self, key: str) -> "ErrorCode":
        return self.get(key=key)


class ErrorCode(models.Model):
    key = models.SlugField(
        _("key"),
        max_length=100,
        unique=True,
        help_text=_("Stable identifier used in code, e.g. appointment_unavailable."),
    )
    error_code = models.PositiveIntegerField(
        _("error code"),
        unique=True,
        help_text=_('The integer partners see in {"error_code": N}.'),
    )
    status = models.PositiveSmallIntegerField(
        _("HTTP status"),
        validators=[validate_error_status],
        help_text=_("4xx or 5xx."),
    )
    title = models.CharField(_("title"), max_length=200)
    message = models.TextField(
        _("message template"),
        validators=[validate_template],
        help_text=_(
            "Placeholders are plain names in braces, e.g. Unknown {resource} resource "
            "'{id}'. Write a literal brace as {{ or }}."
        ),
    )
    fhir_code = models.CharField(
        _("FHIR issue code"),
        max_length=32,
        choices=[(c, c) for c in FHIR_ISSUE_TYPES],
    )
    severity = models.CharField(
        _("severity"),
        max_length=16,
        default="error",
        choices=[(s, s) for s in FHIR_SEVERITIES],
    )
    description = models.TextField(_("description"), blank=True)
    is_public = models.BooleanField(
        _("published"),
        default=True,
        help_text=_("Listed in the published dictionary. Internal entries are left out."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ErrorCodeManager()

    class Meta:
        ordering = ["error_code"]
        verbose_name = _("error code")
        verbose_name_plural = _("error dictionary")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__gte=400, status__lte=599),
                name="apierrors_errorcode_status_4xx_5xx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.error_code} {self.key}"

    def save(self, *args, **kwargs) -> None:
        # Also for ORM callers that skip full_clean(): a dictionary lookup, no query.
        # (Fixtures, loaddata's raw saves, go through save_base and are taken as they are.)
        owner = reserved_by(self.error_code, self.key)
        if owner is not None:
            raise _reserved_error(owner)
        super().save(*args, **kwargs)

    def natural_key(self) -> tuple[str]:
        return (self.key,)

    @property
    def is_declared(self) -> bool:
        """Declared in code: the code raises it by key, so the key must not change."""
        return self.key in DECLARED

    def clean(self) -> None:
        super().clean()
        declared = DECLARED.get(self.key)
        if declared is not None and self.message:
            check_placeholders(self.message, placeholders(declared.message), "message")
        if self.error_code is not None:
            # Named here, because Django's generic "already exists" doesn't say by whom.
            other = (
                ErrorCode._default_manager.filter(error_code=self.error_code)
                .exclude(pk=self.pk)
                .values_list("key", flat=True)
                .first()
            )
            if other is not None:
                raise ValidationError(
                    {
                        "error_code": ValidationError(
                            _(
                                "error_code %(code)s is already used by %(other)s. Partners map "
                                "each code to one error, so every entry needs its own."
                            ),
                            code="unique",
                            params={"code": self.error_code, "other": other},
                        )
                    }
                )
        owner = reserved_by(self.error_code, self.key)
        if owner is not None:
            raise _reserved_error(owner)


class ErrorTranslationManager(models.Manager):
    def get_by_natural_key(self, key: str, language: str) -> "ErrorTranslation":
        return self.get(error__key=key, language=language)


class ErrorTranslation(models.Model):
    """An entry's title and message in one language; blank fields fall back to the entry's."""

    error = models.ForeignKey(ErrorCode, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(_("language"), max_length=15)
    title = models.CharField(_("title"), max_length=200, blank=True)
    message = models.TextField(_("message template"), blank=True, validators=[validate_template])
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ErrorTranslationManager()

    class Meta:
        verbose_name = _("translation")
        verbose_name_plural = _("translations")
        constraints = [
            models.UniqueConstraint(
                fields=["error", "language"], name="apierrors_translation_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.error.key} [{self.language}]"

    def clean(self) -> None:
        super().clean()
        languages = [code for code, _name in settings.LANGUAGES]
        if self.language and self.language not in languages:
            raise ValidationError(
                {
                    "language": ValidationError(
                        _("%(language)s is not one of the site's languages (%(languages)s)."),
                        code="language",
                        params={"language": self.language, "languages": ", ".join(languages)},
                    )
                }
            )
        try:
            error = self.error  # in the admin's inline: the parent as just edited
        except ErrorCode.DoesNotExist:
            error = None
        if error is not None and self.message:
            try:
                allowed = placeholders(error.message)
            except ValidationError:
                return
            check_placeholders(self.message, allowed, "message")

    def natural_key(self) -> tuple[str, str]:
        return (*self.error.natural_key(), self.language)

    natural_key.dependencies = ["apierrors.errorcode"]


# The error statistics' aggregates (apierrors.stats), registered with this app.
from .stats.models import ErrorStat, ErrorStatCaller  # noqa: E402, F401
