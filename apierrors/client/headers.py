"""Reading the headers an apierrors server sets, from any mapping-like headers object."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = ["MAX_RETRY_AFTER", "header", "int_header", "parse_retry_after"]

#: The longest ``Retry-After`` believed, in seconds (a day): "400 nines" or a date in year
#: 9999 would otherwise make ``time.sleep(exc.retry_after)`` overflow or sleep for ages.
MAX_RETRY_AFTER = 86_400
# ASCII only: \d takes any script's digits (Arabic-Indic ones, say).
_SECONDS = re.compile(r"[0-9]+(\.[0-9]+)?")
# int() takes other scripts' digits and "1_0"; eighteen digits fit a signed 64-bit integer.
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
_DATE_ERRORS = (TypeError, ValueError, IndexError, OverflowError)


def header(headers: Any, name: str) -> str | None:
    """The value of ``name``, case-insensitively, stripped; None if absent or blank."""
    if headers is None:
        return None
    value = None
    try:
        value = headers.get(name)
    except Exception:  # a headers object with an unusual .get must not break error reporting
        value = None
    if value is None:
        # requests' and httpx's headers are case-insensitive; a plain dict is not.
        lowered = name.lower()
        try:
            items = list(headers.items())
        except Exception:
            items = []
        for k, v in items:
            if str(k).lower() == lowered:
                value = v
                break
    if value is None:
        return None
    try:
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        value = str(value).strip()
    except Exception:  # an object whose __str__ fails is no header value
        return None
    return value or None


def int_header(headers: Any, *names: str) -> int | None:
    """The first of ``names`` present whose value is an integer; None otherwise."""
    for name in names:
        value = header(headers, name)
        if value is not None and _INTEGER.fullmatch(value):
            return int(value)
    return None


def parse_retry_after(value: str | None, *, date: str | None = None) -> float | None:
    """``Retry-After`` in seconds, from delay-seconds or an HTTP date; None if absent/garbled.

    A date is measured from the response's ``Date`` header when there is one (RFC 9110
    §10.2.3), so a skewed local clock does not distort it; it never goes below zero. Either
    form is capped at ``MAX_RETRY_AFTER`` (a day).
    """
    if not value:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        number = float(value)
        if number >= MAX_RETRY_AFTER:
            return MAX_RETRY_AFTER
        return int(number) if number.is_integer() else number
    when = _http_date(value)
    if when is None:
        return None
    now = (_http_date(date) if date else None) or datetime.now(UTC)
    try:
        seconds = (when - now).total_seconds()
    except _DATE_ERRORS:  # offsets that push a date past year 9999
        return None
    if not math.isfinite(seconds):
        return None
    return min(MAX_RETRY_AFTER, max(0, math.ceil(seconds)))


def _http_date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value)
    except _DATE_ERRORS:
        return None
    if when is None:
        return None
    # HTTP dates are GMT by definition.
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
