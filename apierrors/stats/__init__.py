"""Error statistics: which dictionary entries callers get, how often, in which format and
language, and from whom; shown in the admin next to the dictionary, printed by
``manage.py error_stats``.

The handler calls ``record_response`` once per error response: an in-memory increment
(``counter.py``). Each process flushes its counts every ``STATS_FLUSH_SECONDS`` to the store
every process shares (``store.py``): Redis when the cache is Redis, else the database.
"""

from typing import Any

from django.utils.translation import get_language

from .counter import counter as _counter


def record_response(error: Any, error_format: Any, request: Any) -> None:
    """Count one error response (entry, status, format, active language, caller).

    Never raises and never touches the network or the database: a failure here must not
    become the response's failure.
    """
    try:
        _counter.record(
            error.entry.key,
            error.status,
            getattr(error_format, "name", "") or type(error_format).__name__,
            _language(request),
            request,
        )
    except Exception:  # pragma: no cover - a bug here must not break the response
        import logging

        logging.getLogger("apierrors.stats").exception("Error response not counted")


def _language(request: Any) -> str:
    """The response's language: LocaleMiddleware's ``request.LANGUAGE_CODE`` (an attribute
    read), else the active one (``get_language()`` costs a context-local lookup)."""
    attrs = getattr(request, "__dict__", None) or {}
    inner = attrs.get("_request")  # DRF's Request wraps Django's
    if inner is not None:
        attrs = inner.__dict__
    return attrs.get("LANGUAGE_CODE") or get_language() or ""


def flush() -> int:
    """Write this process's counts to the shared store now; returns the responses written.

    The flusher thread does this every ``STATS_FLUSH_SECONDS``; tests (where no thread runs)
    and ``manage.py error_stats`` call it themselves.
    """
    return _counter.flush()


__all__ = ["flush", "record_response"]


def _settings_changed(setting: str, **kwargs: Any) -> None:
    """Tests override APIERRORS, CACHES, LANGUAGES: resolve settings and store anew."""
    if setting in ("APIERRORS", "CACHES", "LANGUAGES", "DATABASES"):
        _counter.reset()


from django.core.signals import setting_changed  # noqa: E402

setting_changed.connect(_settings_changed, dispatch_uid="apierrors-stats-settings")
