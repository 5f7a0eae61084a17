"""The maintenance switch: API paths answer 503 ``maintenance`` with ``Retry-After``.

``APIERRORS["MAINTENANCE"]`` is ``False`` (default), ``True``, or the dotted path of a
callable ``(request) -> bool`` — e.g. one reading a django-constance or django-waffle flag, so
staff can switch it in the admin without a deploy. ``APIERRORS["MAINTENANCE_RETRY_AFTER"]``
(seconds, default 300) goes into ``Retry-After``. Only paths under ``API_PATH_PREFIXES`` are
switched off: the admin and the published dictionary stay usable. ``APIErrorsMiddleware``
(``apierrors.errors_middleware``) applies it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest

from ..conf import api_settings


def maintenance_switch() -> bool | Callable[[HttpRequest], bool]:
    """The configured switch: a bool, or the callable to ask per request."""
    value = api_settings.MAINTENANCE  # a dotted path comes back imported
    return value if callable(value) else bool(value)


def retry_after_seconds() -> int:
    return int(api_settings.MAINTENANCE_RETRY_AFTER)


def in_maintenance(request: HttpRequest) -> bool:
    """Whether this (API) request is to be answered 503 ``maintenance``."""
    switch = maintenance_switch()
    return bool(switch(request)) if callable(switch) else switch
