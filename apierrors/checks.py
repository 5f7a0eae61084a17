"""System checks: configuration mistakes that would otherwise show up as wrong error bodies."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from .conf import get_setting


@register(Tags.compatibility)
def check_configuration(app_configs: Any, **kwargs: Any) -> list[Error]:
    from .formats import BUILTIN_FORMATS

    errors = []
    known = {*BUILTIN_FORMATS, *get_setting("FORMATS")}
    if get_setting("DEFAULT_FORMAT") not in known:
        errors.append(Error(
            f"APIERRORS['DEFAULT_FORMAT'] is {get_setting('DEFAULT_FORMAT')!r}, not a known "
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
    alias = get_setting("CACHE_ALIAS")
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
