"""Reading the headers an apierrors server sets, from any mapping-like headers object."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = ["header", "int_header", "parse_retry_after"]

_SECONDS = re.compile(r"\d+(\.\d+)?")


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
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = str(value).strip()
    return value or None


def int_header(headers: Any, *names: str) -> int | None:
    """The first of ``names`` present whose value is an integer; None otherwise."""
    for name in names:
        value = header(headers, name)
        if value is not None:
            try:
                return int(value)
            except ValueError:
                continue
    return None


def parse_retry_after(value: str | None, *, date: str | None = None) -> float | None:
    """``Retry-After`` in seconds, from delay-seconds or an HTTP date; None if absent/garbled.

    A date is measured from the response's ``Date`` header when there is one (RFC 9110
    §10.2.3), so a skewed local clock does not distort it; it never goes below zero.
    """
    if not value:
        return None
    value = value.strip()
    if _SECONDS.fullmatch(value):
        number = float(value)
        return int(number) if number.is_integer() else number
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # HTTP dates are GMT by definition
        when = when.replace(tzinfo=UTC)
    now = datetime.now(UTC)
    if date:
        try:
            sent = parsedate_to_datetime(date)
        except (TypeError, ValueError, IndexError, OverflowError):
            sent = None
        if sent is not None:
            now = sent if sent.tzinfo else sent.replace(tzinfo=UTC)
    return max(0, math.ceil((when - now).total_seconds()))
