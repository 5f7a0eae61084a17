"""The statistics' settings, read once per process (and again when a test changes them).

All optional, in ``settings.APIERRORS``:

- ``STATS`` (True): count error responses. Off: nothing is recorded, no thread is started,
  and the admin shows no statistics.
- ``STATS_FLUSH_SECONDS`` (5): how often each process writes its counts to the shared store.
- ``STATS_CALLERS`` (True): keep the top callers per entry (the authenticated user's
  username, else "anonymous"). False keeps none (usernames can be personal data); a dotted
  path names a ``callable(user) -> str`` giving the label to keep instead (a partner's name).
- ``STATS_RETENTION_DAYS`` (90): older counts are pruned automatically.
- ``STATS_STORE`` ("auto"): "redis" (the cache named by ``CACHE_ALIAS``, which must then be
  Redis), "database", or "auto": Redis when that cache is Redis, else the database.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ..conf import api_settings

ANONYMOUS = "anonymous"
# The label a response gets for a language the site does not list (Django's LocaleMiddleware
# only activates listed ones; a project's own code might activate anything).
OTHER_LANGUAGE = "other"


def stats_setting(name: str) -> Any:
    return api_settings.raw(name)  # defaults in apierrors.conf, with every other setting


@dataclass(frozen=True, slots=True)
class StatsConfig:
    enabled: bool
    flush_seconds: float
    # None: no caller breakdown; else user -> label.
    caller_label: Callable[[Any], str] | None
    retention_days: int
    store: str
    languages: frozenset[str]


def _username(user: Any) -> str:
    get_username = getattr(user, "get_username", None)
    return str(get_username() if get_username is not None else user)


def load_config() -> StatsConfig:
    callers = stats_setting("STATS_CALLERS")
    if callers is True:
        caller_label: Callable[[Any], str] | None = _username
    elif not callers:
        caller_label = None
    elif isinstance(callers, str):
        caller_label = import_string(callers)
    else:
        caller_label = callers
    store = stats_setting("STATS_STORE")
    if store not in ("auto", "redis", "database"):
        raise ImproperlyConfigured(
            f"APIERRORS['STATS_STORE'] is {store!r}: use 'auto', 'redis' or 'database'."
        )
    return StatsConfig(
        enabled=bool(stats_setting("STATS")),
        # A floor keeps a typo (0) from turning the flusher into a busy loop.
        flush_seconds=max(0.05, float(stats_setting("STATS_FLUSH_SECONDS"))),
        caller_label=caller_label,
        retention_days=max(1, int(stats_setting("STATS_RETENTION_DAYS"))),
        store=store,
        languages=frozenset(code for code, _name in settings.LANGUAGES),
    )
