"""The app's settings: ``settings.APIERRORS``, a dict whose every key is optional."""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Format used when neither the view nor the request's Accept header chooses one.
    "DEFAULT_FORMAT": "fhir",
    # The pipeline class; subclass apierrors.handler.ExceptionHandler to change one step.
    "HANDLER_CLASS": "apierrors.handler.ExceptionHandler",
    # Extra or replacement formats: {"name": "dotted.path.to.FormatClass"}.
    "FORMATS": {},
    # Database aliases wrapped by AtomicRequestsMiddleware (None: every alias but the
    # read replicas declared as test mirrors, TEST["MIRROR"]).
    "ATOMIC_DATABASES": None,
    # Cache alias holding the dictionary's version stamp.
    "CACHE_ALIAS": "default",
    # How often each process reads that stamp, at most (seconds): the longest another
    # process serves an edit's old text after the commit (the editing process: none). 0 reads
    # it on every error response.
    "STAMP_CHECK_SECONDS": 0.5,
    # Header a caller may send to name its request; echoed on error responses.
    "REQUEST_ID_HEADER": "X-Request-ID",
    # Paths answered in the API's error format by the non-DRF handlers (handler404 etc.).
    "API_PATH_PREFIXES": ["/api/"],
    # Realm in WWW-Authenticate: Bearer realm="…" (RFC 6750).
    "AUTH_REALM": "api",
    # Maintenance switch: True, or a dotted path to a callable(request) -> bool.
    "MAINTENANCE": False,
    "MAINTENANCE_RETRY_AFTER": 300,
    # ConditionalMixin: answer 428 to writes without If-Match.
    "REQUIRE_IF_MATCH": False,
    # OpenAPI request validation, project-wide (views may set openapi_validation themselves).
    "OPENAPI_VALIDATION": False,
    # A schema file to validate against; None: drf-spectacular generates it.
    "OPENAPI_SCHEMA": None,
}


def get_setting(name: str) -> Any:
    """Return ``settings.APIERRORS[name]``, or its default."""
    return getattr(settings, "APIERRORS", {}).get(name, DEFAULTS[name])
