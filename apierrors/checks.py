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
        errors.append(Error(
            f"APIERRORS['DEFAULT_FORMAT'] is {api_settings.raw('DEFAULT_FORMAT')!r}, not a known "
            f"format ({', '.join(sorted(known))}).",
            id="apierrors.E001",
        ))
    handler = getattr(settings, "REST_FRAMEWORK", {}).get("EXCEPTION_HANDLER")
    if handler in (None, "rest_framework.views.exception_handler"):
        errors.append(Error(
            "REST_FRAMEWORK['EXCEPTION_HANDLER'] is not apierrors' handler: DRF views will "
            "answer with DRF's own bodies.",
            hint="Set it to 'apierrors.handler.exception_handler'.",
            id="apierrors.E002",
        ))
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
        return [Error(
            f"APIERRORS['CACHE_ALIAS'] is {alias!r}, which CACHES does not define: no process "
            f"will see an edit of the error dictionary made in another one.",
            hint=f"Define CACHES[{alias!r}] or point CACHE_ALIAS at a configured cache.",
            id="apierrors.E003",
        )]
    backend = caches_setting[alias].get("BACKEND", "")
    if backend in _PROCESS_LOCAL_CACHES and not settings.DEBUG:
        return [Warning(
            f"The error dictionary's version stamp is kept in CACHES[{alias!r}], a "
            f"{backend.rsplit('.', 1)[-1]}, which only its own process can see. With several "
            f"worker processes or hosts, an edit in the admin reaches the process that saved "
            f"it; every other one keeps answering with the old status and text until it "
            f"restarts.",
            hint="Point APIERRORS['CACHE_ALIAS'] at a cache all processes share (Redis, "
                 "Memcached). Silence apierrors.W001 if the site runs a single process.",
            id="apierrors.W001",
        )]
    if backend == "django.core.cache.backends.db.DatabaseCache":
        return [Warning(
            f"The error dictionary's version stamp is kept in CACHES[{alias!r}], a "
            f"DatabaseCache: every error response then queries the database, and when the "
            f"database is down or the request's transaction is aborted the stamp cannot be "
            f"read, so edits are not seen.",
            hint="Point APIERRORS['CACHE_ALIAS'] at Redis or Memcached.",
            id="apierrors.W002",
        )]
    return []


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
            messages.append(Warning(
                f"APIERRORS[{name!r}] is not an apierrors setting: it has no effect.",
                hint=f"Did you mean {close[0]!r}?" if close else
                     f"Known settings: {', '.join(sorted(api_settings.defaults))}.",
                id="apierrors.W010",
            ))
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
    from .handler import ExceptionHandler

    if not (isinstance(handler_class, type) and issubclass(handler_class, ExceptionHandler)):
        return [Error(
            f"APIERRORS['HANDLER_CLASS'] is {handler_class!r}, not a subclass of "
            f"apierrors.handler.ExceptionHandler.", id="apierrors.E013")]
    return [
        Error(f"{handler_class.__qualname__}.MAPPERS[{exc_class.__qualname__}] names "
              f"{mapper!r}, which {handler_class.__qualname__} does not define.",
              id="apierrors.E013")
        for exc_class, mapper in handler_class.MAPPERS.items()
        if isinstance(mapper, str) and not callable(getattr(handler_class, mapper, None))
    ]


def _exception_keys_messages(raw: Any) -> list[CheckMessage]:
    from .declared import DECLARED
    from .exception_keys import parse_exception_keys

    mapping, problems = parse_exception_keys(raw)  # imports the classes, and so their modules
    messages: list[CheckMessage] = [
        Error(f"APIERRORS['EXCEPTION_KEYS'][{path!r}] {problem}.",
              hint="Give the dotted path of an exception class and a dictionary key, "
                   'or {"key": "…", "params": {"placeholder": "attribute"}}.',
              id="apierrors.E012")
        for path, problem in problems
    ]
    for cls, mapping_key in mapping.items():
        if mapping_key.key not in DECLARED:
            messages.append(Warning(
                f"APIERRORS['EXCEPTION_KEYS'] maps {cls.__module__}.{cls.__qualname__} to "
                f"{mapping_key.key!r}, which no code declares: unless the dictionary in the "
                f"database has it, that exception answers 500 internal_error.",
                hint="Declare the entry in code (apierrors.declared.declare() in a module "
                     "imported at startup) so sync_error_codes creates it everywhere, or fix "
                     "the key.",
                id="apierrors.W011",
            ))
    return messages
