"""The dictionary as declared in code: the built-in entries every install starts with.

The database overrides these (support staff edit them in the admin); code only ever adds
missing keys (``migrate``, ``manage.py sync_error_codes``). When the database cannot be read,
these declarations are the last fallback, so an error response can always be rendered.
"""

from dataclasses import dataclass, fields
from typing import Any

from django.utils.translation import gettext_noop as _


@dataclass(frozen=True, slots=True, eq=False)
class ErrorFields:
    """What an error declared in code and a dictionary entry both have: the entry's fields
    (``models.ENTRY_FIELDS``) but ``is_public``, which only the database holds."""

    key: str
    error_code: int
    status: int
    title: str
    message: str
    fhir_code: str
    severity: str = "error"
    description: str = ""


@dataclass(frozen=True, slots=True)
class DeclaredError(ErrorFields):
    def values(self) -> dict[str, Any]:
        """The declared fields by name: an ErrorCode row's or an Entry's keyword arguments."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


BUILTIN_ERRORS: tuple[DeclaredError, ...] = (
    DeclaredError(
        "appointment_unavailable",
        1,
        422,
        _("Appointment unavailable"),
        _("This appointment time is no longer available."),
        "business-rule",
        description=_("The slot was booked by someone else between search and booking."),
    ),
    DeclaredError(
        "invalid_request",
        2,
        400,
        _("Invalid request"),
        _("The request was malformed or failed validation."),
        "invalid",
        description=_("A field or part of the request failed validation; see the details."),
    ),
    DeclaredError(
        "parse_error",
        3,
        400,
        _("Parse error"),
        _("The request body could not be parsed."),
        "structure",
        description=_("The body is not well-formed for its content type (e.g. broken JSON)."),
    ),
    DeclaredError(
        "openapi_validation",
        4,
        400,
        _("OpenAPI validation failed"),
        _("The request does not match the API's OpenAPI specification."),
        "invalid",
        description=_(
            "Headers, cookies, body, query, path or security scheme failed "
            "validation against the OpenAPI schema."
        ),
    ),
    DeclaredError(
        "authentication_failed",
        5,
        401,
        _("Authentication failed"),
        _("Authentication failed"),
        "unknown",
        description=_("No valid Bearer token was provided."),
    ),
    DeclaredError(
        "unauthorized",
        6,
        401,
        _("Unauthorized"),
        _("The credentials are valid but may not access this resource."),
        "security",
    ),
    DeclaredError(
        "authorization_failed",
        7,
        403,
        _("Authorization failed"),
        _("Authorization failed"),
        "forbidden",
        description=_("The token bearer is forbidden from performing the operation."),
    ),
    DeclaredError(
        "unknown_resource",
        8,
        404,
        _("Unknown resource"),
        _("Unknown {resource} resource '{id}'"),
        "not-found",
        description=_("The requested resource doesn't exist (it might have been deleted)."),
    ),
    DeclaredError(
        "not_found",
        9,
        404,
        _("Not found"),
        _("The requested resource doesn't exist."),
        "not-found",
    ),
    DeclaredError(
        "method_not_allowed",
        10,
        405,
        _("Method not allowed"),
        _('Method "{method}" is not supported by this endpoint.'),
        "not-supported",
    ),
    DeclaredError(
        "not_acceptable",
        11,
        406,
        _("Not acceptable"),
        _("Could not satisfy the request Accept header."),
        "not-supported",
    ),
    DeclaredError(
        "unsupported_media_type",
        12,
        415,
        _("Unsupported media type"),
        _('Unsupported media type "{media_type}" in request.'),
        "not-supported",
    ),
    DeclaredError(
        "conflict",
        13,
        409,
        _("Conflict"),
        _("The request conflicts with the current state of the resource."),
        "conflict",
        description=_("For example the resource is being duplicated."),
    ),
    DeclaredError(
        "duplicate",
        14,
        409,
        _("Duplicate"),
        _("A resource with the same unique value already exists."),
        "duplicate",
    ),
    DeclaredError(
        "protected",
        15,
        409,
        _("Protected resource"),
        _("The resource is still referenced by other resources and cannot be deleted."),
        "conflict",
    ),
    DeclaredError(
        "precondition_failed",
        16,
        412,
        _("Precondition failed"),
        _("The resource has been modified since the precondition was specified."),
        "conflict",
    ),
    DeclaredError(
        "precondition_required",
        17,
        428,
        _("Precondition required"),
        _("This request must be conditional: send If-Match with the resource's ETag."),
        "required",
    ),
    DeclaredError(
        "business_rule",
        18,
        422,
        _("Unprocessable entity"),
        _(
            "The request was syntactically correct but failed due to request semantics, "
            "database state, or a business rule."
        ),
        "business-rule",
    ),
    DeclaredError(
        "request_too_large",
        19,
        413,
        _("Request too large"),
        _("The request body is too large."),
        "too-costly",
    ),
    DeclaredError(
        "throttled",
        20,
        429,
        _("Too many requests"),
        _("Rate limit exceeded. Try again later."),
        "throttled",
    ),
    DeclaredError(
        "internal_error",
        21,
        500,
        _("Internal server error"),
        _("Internal server error"),
        "exception",
    ),
    DeclaredError(
        "service_unavailable",
        22,
        503,
        _("Service unavailable"),
        _("The service is temporarily unavailable. Try again later."),
        "transient",
    ),
    DeclaredError(
        "maintenance",
        23,
        503,
        _("Down for maintenance"),
        _("The API is down for maintenance. Try again later."),
        "transient",
        description=_(
            "The API is switched off for maintenance. Retry after the number of "
            "seconds in the Retry-After header."
        ),
    ),
)

BUILTIN_BY_KEY: dict[str, DeclaredError] = {e.key: e for e in BUILTIN_ERRORS}

# Every entry code declares: the built-ins plus the project's own (``declare()``, or an
# ``APIError`` subclass with ``default_error_code``). ``sync_error_codes`` writes the missing ones.
DECLARED: dict[str, DeclaredError] = dict(BUILTIN_BY_KEY)


def declare(error: DeclaredError) -> DeclaredError:
    """Declare a project error in code; the database copy (if any) still wins at run time."""
    existing = DECLARED.get(error.key)
    if existing is not None and existing != error:
        raise ValueError(f"error key {error.key!r} is already declared differently")
    clash = next(
        (e for e in DECLARED.values() if e.error_code == error.error_code and e.key != error.key),
        None,
    )
    if clash is not None:
        raise ValueError(f"error_code {error.error_code} is already declared by {clash.key!r}")
    DECLARED[error.key] = error
    return error


# The entry used when a key is neither in the database nor declared (a typo in code must
# still produce a well-formed 500, never a crash inside the handler).
FALLBACK_KEY = "internal_error"
