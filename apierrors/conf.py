"""The app's settings: ``settings.APIERRORS``, a dict whose every key is optional.

Read them through one object, in the manner of DRF's ``api_settings``::

    from apierrors.conf import api_settings

    api_settings.DEFAULT_FORMAT   # the project's value, else the default
    api_settings.HANDLER_CLASS    # import strings come back imported (the class itself)

A value is resolved on first access and then kept, so reading one on the hot path is an
attribute lookup. ``setting_changed`` (``override_settings``, pytest-django's ``settings``)
reloads them, together with every value derived from them through ``settings_cached``: one
place forgets everything that was resolved from the old settings.
"""

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

DEFAULTS: dict[str, Any] = {
    # Format used when neither the view nor the request's Accept header chooses one.
    "DEFAULT_FORMAT": "fhir",
    # The pipeline class; subclass apierrors.handler.ExceptionHandler to change one step.
    "HANDLER_CLASS": "apierrors.handler.ExceptionHandler",
    # A project's own exceptions → dictionary keys: {"dotted.path.Exc": "key"}, or
    # {"dotted.path.Exc": {"key": "key", "params": {"placeholder": "attribute"}}}.
    "EXCEPTION_KEYS": {},
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
    # Bytes: API requests whose Content-Length is larger answer 413, multipart uploads
    # included (whose file parts DATA_UPLOAD_MAX_MEMORY_SIZE leaves out). None: no limit.
    "MAX_BODY_SIZE": None,
    # Error statistics (apierrors.stats): on, flush interval, caller breakdown, retention,
    # store ("auto": Redis when CACHE_ALIAS is Redis, else the database).
    "STATS": True,
    "STATS_FLUSH_SECONDS": 5,
    "STATS_CALLERS": True,
    "STATS_RETENTION_DAYS": 90,
    "STATS_STORE": "auto",
}

# Settings given as dotted paths, imported on first access. (EXCEPTION_KEYS is not one of
# them: its paths are dictionary keys, imported by the handler so that a broken one never
# fails a request; see apierrors.exception_keys.)
IMPORT_STRINGS = frozenset({"HANDLER_CLASS", "FORMATS", "MAINTENANCE"})


def perform_import(value: Any, name: str) -> Any:
    """A dotted path → the object; a dict's string values likewise; anything else as it is."""
    if isinstance(value, str):
        return _import(value, name)
    if isinstance(value, dict):
        return {
            k: _import(v, f"{name}[{k!r}]") if isinstance(v, str) else v for k, v in value.items()
        }
    return value


def _import(path: str, name: str) -> Any:
    try:
        return import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"APIERRORS[{name!r}] is {path!r}, which cannot be imported: {exc}"
        ) from exc


class APIErrorsSettings:
    """``settings.APIERRORS`` with defaults, as attributes (see the module's docstring)."""

    def __init__(self, defaults: dict[str, Any], import_strings: frozenset[str]) -> None:
        self.defaults = defaults
        self.import_strings = import_strings
        self._cached_attrs: set[str] = set()

    @property
    def user_settings(self) -> dict[str, Any]:
        """The project's ``APIERRORS`` dict, as given."""
        if not hasattr(self, "_user_settings"):
            self._user_settings = getattr(settings, "APIERRORS", None) or {}
        return self._user_settings

    def raw(self, name: str) -> Any:
        """The value as configured (a dotted path stays a string): for checks and messages."""
        if name not in self.defaults:
            raise AttributeError(f"Unknown apierrors setting {name!r}")
        return self.user_settings.get(name, self.defaults[name])

    def __getattr__(self, name: str) -> Any:
        # Only called for names not resolved yet: afterwards they are instance attributes.
        if name.startswith("_") or name not in self.defaults:
            raise AttributeError(f"Unknown apierrors setting {name!r}")
        value = self.raw(name)
        if name in self.import_strings:
            value = perform_import(value, name)
        self._cached_attrs.add(name)
        setattr(self, name, value)
        return value

    def reload(self) -> None:
        """Forget resolved values and everything derived from them (``settings_cached``)."""
        for name in self._cached_attrs:
            self.__dict__.pop(name, None)
        self._cached_attrs.clear()
        self.__dict__.pop("_user_settings", None)
        for clear in _derived:
            clear()


api_settings = APIErrorsSettings(DEFAULTS, IMPORT_STRINGS)

_derived: list[Callable[[], None]] = []

F = TypeVar("F", bound=Callable[..., Any])


def settings_cached(func: F | None = None, *, maxsize: int | None = None) -> Any:
    """``functools.lru_cache``, forgotten when the settings reload: for objects built from
    them (the handler instance, the formats), so no module keeps a cache of its own to clear.
    Unbounded unless ``maxsize`` is given (for caches keyed by request data)."""

    def decorate(function: F) -> F:
        cached = functools.lru_cache(maxsize=maxsize)(function)
        _derived.append(cached.cache_clear)
        return cached  # type: ignore[return-value]

    return decorate if func is None else decorate(func)


def reload_api_settings(*, setting: str, **kwargs: Any) -> None:
    if setting == "APIERRORS":
        api_settings.reload()


setting_changed.connect(reload_api_settings, dispatch_uid="apierrors-api-settings")
