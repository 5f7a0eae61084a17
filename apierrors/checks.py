"""System checks: configuration mistakes that would otherwise show up as wrong error bodies."""

import difflib
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from .conf import IMPORT_STRINGS, api_settings, perform_import


@register(Tags.compatibility)
def check_configuration(app_configs: Any, **kwargs: Any) -> list[Error]:
    from .formats import BUILTIN_FORMATS

    errors = []
    known = {*BUILTIN_FORMATS, *api_settings.raw("FORMATS")}
    if api_settings.raw("DEFAULT_FORMAT") not in known:
        errors.append(
            Error(
                f"APIERRORS['DEFAULT_FORMAT'] is {api_settings.raw('DEFAULT_FORMAT')!r}, "
                f"not a known format ({', '.join(sorted(known))}).",
                id="apierrors.E001",
            )
        )
    handler = getattr(settings, "REST_FRAMEWORK", {}).get("EXCEPTION_HANDLER")
    if handler in (None, "rest_framework.views.exception_handler"):
        errors.append(
            Error(
                "REST_FRAMEWORK['EXCEPTION_HANDLER'] is not apierrors' handler: DRF views will "
                "answer with DRF's own bodies.",
                hint="Set it to 'apierrors.handler.exception_handler'.",
                id="apierrors.E002",
            )
        )
    return errors


# Backends whose data lives in one process: an edit published there reaches no other worker.
_PROCESS_LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register(Tags.caches)
def check_stamp_cache(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """The dictionary's version stamp must live where every process reads it."""
    alias = api_settings.raw("CACHE_ALIAS")
    caches_setting = getattr(settings, "CACHES", {})
    if alias not in caches_setting:
        return [
            Error(
                f"APIERRORS['CACHE_ALIAS'] is {alias!r}, which CACHES does not define: no process "
                f"will see an edit of the error dictionary made in another one.",
                hint=f"Define CACHES[{alias!r}] or point CACHE_ALIAS at a configured cache.",
                id="apierrors.E003",
            )
        ]
    backend = caches_setting[alias].get("BACKEND", "")
    if backend in _PROCESS_LOCAL_CACHES and not settings.DEBUG:
        return [
            Warning(
                f"The error dictionary's version stamp is kept in CACHES[{alias!r}], a "
                f"{backend.rsplit('.', 1)[-1]}, which only its own process can see. With several "
                f"worker processes or hosts, an edit in the admin reaches the process that saved "
                f"it; every other one keeps answering with the old status and text until it "
                f"restarts.",
                hint="Point APIERRORS['CACHE_ALIAS'] at a cache all processes share (Redis, "
                "Memcached). Silence apierrors.W001 if the site runs a single process.",
                id="apierrors.W001",
            )
        ]
    if backend == "django.core.cache.backends.db.DatabaseCache":
        return [
            Warning(
                f"The error dictionary's version stamp is kept in CACHES[{alias!r}], a "
                f"DatabaseCache: every error response then queries the database, and when the "
                f"database is down or the request's transaction is aborted the stamp cannot be "
                f"read, so edits are not seen.",
                hint="Point APIERRORS['CACHE_ALIAS'] at Redis or Memcached.",
                id="apierrors.W002",
            )
        ]
    return []


ATOMIC_MIDDLEWARE = "apierrors.middleware.AtomicRequestsMiddleware"

# Middleware that may be listed above AtomicRequestsMiddleware without weakening it: none of
# them writes to the database, and none turns a response whose transaction was decided
# into one with another outcome (a redirect of a 404, a header, a compressed body, a static
# file or preflight answered before any view runs). Anything else above it is outside the
# transaction: SessionMiddleware saves the session there (kept when the request fails),
# MessageMiddleware stores messages in it, ConditionalGetMiddleware turns a committed 200
# into a 304, and middleware we don't know may do either.
HARMLESS_ABOVE_ATOMIC = frozenset(
    {
        "apierrors.errors_middleware.APIErrorsMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.gzip.GZipMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.common.BrokenLinkEmailsMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "django.middleware.locale.LocaleMiddleware",
        "django.middleware.cache.UpdateCacheMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "corsheaders.middleware.CorsMiddleware",
        "csp.middleware.CSPMiddleware",
        "debug_toolbar.middleware.DebugToolbarMiddleware",
        "django_prometheus.middleware.PrometheusBeforeMiddleware",
    }
)


def _atomic_middleware_index(middleware: list[str]) -> int | None:
    """Where AtomicRequestsMiddleware (or a subclass) is listed, if it is."""
    from django.utils.module_loading import import_string

    from .transactions.middleware import AtomicRequestsMiddleware

    for index, path in enumerate(middleware):
        if path == ATOMIC_MIDDLEWARE:
            return index
        try:
            cls = import_string(path)
        except ImportError:
            continue  # Django reports that one itself when it loads the middleware
        if isinstance(cls, type) and issubclass(cls, AtomicRequestsMiddleware):
            return index
    return None


@register(Tags.compatibility)
def check_rollback_guarantee(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Settings that quietly weaken AtomicRequestsMiddleware's "non-2xx rolled back"."""
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    index = _atomic_middleware_index(middleware)
    if index is None:
        return []  # not installed: the project keeps its own transaction handling
    messages: list[CheckMessage] = []
    above = [path for path in middleware[:index] if path not in HARMLESS_ABOVE_ATOMIC]
    if above:
        messages.append(
            Warning(
                f"AtomicRequestsMiddleware is not first in MIDDLEWARE: {', '.join(above)} "
                f"{'runs' if len(above) == 1 else 'run'} outside the request's transaction. "
                f"Whatever they write to the database (a session, messages) is kept when the "
                f"request fails, and a response they change afterwards (a 200 turned into a 304 "
                f"or an error) was committed or rolled back as it was before the change.",
                hint="List apierrors.middleware.AtomicRequestsMiddleware first. Middleware that "
                "never uses the database and never changes a response's outcome may stay "
                "above it (SecurityMiddleware, WhiteNoise, GZip, CORS; see the README); "
                "silence apierrors.W003 if the middleware named here is such.",
                id="apierrors.W003",
            )
        )
    databases = getattr(settings, "DATABASES", None) or {}
    configured = api_settings.ATOMIC_DATABASES
    for alias, settings_dict in databases.items():
        if not settings_dict.get("ATOMIC_REQUESTS"):
            continue
        wrapped = (
            not (settings_dict.get("TEST") or {}).get("MIRROR")
            if configured is None
            else alias in configured
        )
        unwrapped = (
            ""
            if wrapped
            else (
                f" {alias!r} is not wrapped by AtomicRequestsMiddleware (ATOMIC_DATABASES), so "
                f"only Django's rule applies there: a view that returns an error response "
                f"(rather than raising) commits."
            )
        )
        messages.append(
            Warning(
                f"DATABASES[{alias!r}] has ATOMIC_REQUESTS = True beside "
                f"AtomicRequestsMiddleware: Django wraps every view in a transaction of its own "
                f"on {alias!r}. Views opted out with @non_atomic or atomic_requests = False still "
                f"run inside it (atomic(durable=True) fails there, and what such a view returns "
                f"commits), and every request opens a connection and a savepoint on {alias!r} "
                f"even when it never uses it.{unwrapped}",
                hint="Remove ATOMIC_REQUESTS: AtomicRequestsMiddleware already covers the view, "
                "returned errors, rendering and other middleware's writes.",
                id="apierrors.W004",
            )
        )
    return messages


@register(Tags.compatibility)
def check_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Typos in APIERRORS' names, and dotted paths that would fail on the first request."""
    messages: list[CheckMessage] = []
    user_settings = getattr(settings, "APIERRORS", None) or {}
    if not isinstance(user_settings, dict):
        return [Error("settings.APIERRORS must be a dict.", id="apierrors.E010")]
    for name in user_settings:
        if name not in api_settings.defaults:
            close = difflib.get_close_matches(str(name), api_settings.defaults, n=1)
            messages.append(
                Warning(
                    f"APIERRORS[{name!r}] is not an apierrors setting: it has no effect.",
                    hint=f"Did you mean {close[0]!r}?"
                    if close
                    else f"Known settings: {', '.join(sorted(api_settings.defaults))}.",
                    id="apierrors.W010",
                )
            )
    for name in sorted(IMPORT_STRINGS):
        try:
            value = perform_import(api_settings.raw(name), name)
        except ImproperlyConfigured as exc:
            messages.append(Error(str(exc), id="apierrors.E011"))
            continue
        if name == "HANDLER_CLASS":
            messages += _handler_class_messages(value)
    return messages + _exception_keys_messages(api_settings.raw("EXCEPTION_KEYS"))


def _handler_class_messages(handler_class: Any) -> list[CheckMessage]:
    from .handling.handler import ExceptionHandler

    if not (isinstance(handler_class, type) and issubclass(handler_class, ExceptionHandler)):
        return [
            Error(
                f"APIERRORS['HANDLER_CLASS'] is {handler_class!r}, not a subclass of "
                f"apierrors.handler.ExceptionHandler.",
                id="apierrors.E013",
            )
        ]
    return [
        Error(
            f"{handler_class.__qualname__}.MAPPERS[{exc_class.__qualname__}] names "
            f"{mapper!r}, which {handler_class.__qualname__} does not define.",
            id="apierrors.E013",
        )
        for exc_class, mapper in handler_class.MAPPERS.items()
        if isinstance(mapper, str) and not callable(getattr(handler_class, mapper, None))
    ]


def _exception_keys_messages(raw: Any) -> list[CheckMessage]:
    from .dictionary.declared import DECLARED
    from .handling.exception_keys import parse_exception_keys

    mapping, problems = parse_exception_keys(raw)  # imports the classes, and so their modules
    messages: list[CheckMessage] = [
        Error(
            f"APIERRORS['EXCEPTION_KEYS'][{path!r}] {problem}.",
            hint="Give the dotted path of an exception class and a dictionary key, "
            'or {"key": "…", "params": {"placeholder": "attribute"}}.',
            id="apierrors.E012",
        )
        for path, problem in problems
    ]
    for cls, mapping_key in mapping.items():
        if mapping_key.key not in DECLARED:
            messages.append(
                Warning(
                    f"APIERRORS['EXCEPTION_KEYS'] maps {cls.__module__}.{cls.__qualname__} to "
                    f"{mapping_key.key!r}, which no code declares: unless the dictionary in the "
                    f"database has it, that exception answers 500 internal_error.",
                    hint="Declare the entry in code (apierrors.declared.declare() in a module "
                    "imported at startup) so sync_error_codes creates it everywhere, or fix "
                    "the key.",
                    id="apierrors.W011",
                )
            )
    return messages
