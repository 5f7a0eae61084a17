"""Keep every process's copy of the dictionary current, and the built-ins present."""

from typing import Any

from django.db import router, transaction

from .catalog import catalog, dictionary_changed


def invalidate_on_commit(sender: type, instance: Any, using: str, **kwargs: Any) -> None:
    """An entry changed: publish a new stamp when (and only if) the change commits.

    Connected to post_save and post_delete of both models, so the admin (change form,
    inlines, "delete selected") and ``loaddata`` (``raw=True`` saves) are covered.
    ``QuerySet.update()`` and the bulk methods send no signals: see ``dictionary_changed``.
    """
    dictionary_changed(using)


def sync_after_migrate(using: str, **kwargs: Any) -> None:
    from ..models import ErrorCode
    from .sync import sync_declared_codes

    # Only where the table exists (a router may keep it off some databases).
    if router.allow_migrate_model(using, ErrorCode) and "apierrors_errorcode" in (
        transaction.get_connection(using).introspection.table_names()
    ):
        sync_declared_codes(using)


# What decides a request's scheme and host, which the problem format caches per origin.
_ORIGIN_SETTINGS = frozenset(
    {
        "ALLOWED_HOSTS",
        "DEBUG",
        "USE_X_FORWARDED_HOST",
        "USE_X_FORWARDED_PORT",
        "SECURE_PROXY_SSL_HEADER",
    }
)


def settings_changed(setting: str, **kwargs: Any) -> None:
    """Tests override APIERRORS and CACHES: the dictionary's copy and its cache go with them.

    (What was resolved from ``APIERRORS`` itself, the handler and the formats included, is
    forgotten by ``api_settings.reload()``, connected in ``conf.py``.)
    """
    if setting in ("APIERRORS", "CACHES"):
        catalog.reset()
    elif setting in _ORIGIN_SETTINGS:
        from ..formats import clear_format_caches

        clear_format_caches()
