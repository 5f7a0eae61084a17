"""``APIERRORS["EXCEPTION_KEYS"]``: a project's own exception classes → dictionary keys.

For exceptions that are not ``APIError``s (a payment provider's ``CardDeclined``, a domain
``SlotTaken``)::

    APIERRORS = {"EXCEPTION_KEYS": {
        "payments.errors.CardDeclined": "card_declined",
        # Template params from the exception's attributes: {placeholder: attribute}
        # (a list of names means placeholder == attribute).
        "booking.errors.SlotTaken": {"key": "slot_taken", "params": {"slot": "slot_id"}},
    }}

A subclass of a listed class maps too; the most specific listed class wins (and wins over the
built-in mapping of the same class). The status, code and text come from the entry; the
exception's own text never reaches the body. Mistakes (a path that does not import, a value of
the wrong shape, a key nobody declared) are reported by ``manage.py check``; at request time a
broken line is skipped (logged once), never a failed request.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.module_loading import import_string

logger = logging.getLogger("apierrors")


@dataclass(frozen=True, slots=True)
class ExceptionKey:
    """One line of ``EXCEPTION_KEYS``, parsed: the entry, and where its params come from."""

    key: str
    # (placeholder, attribute of the exception) pairs.
    params: tuple[tuple[str, str], ...] = ()

    def params_of(self, exc: BaseException) -> dict[str, Any]:
        return {name: getattr(exc, attr, None) for name, attr in self.params}


def parse_value(value: Any) -> ExceptionKey:
    """A line's value → ``ExceptionKey``; ``ValueError`` saying what is wrong with it."""
    if isinstance(value, str) and value:
        return ExceptionKey(value)
    if not isinstance(value, Mapping) or not isinstance(value.get("key"), str) or not value["key"]:
        raise ValueError('must be a dictionary key, or {"key": "…", "params": {…}}')
    unknown = set(value) - {"key", "params"}
    if unknown:
        raise ValueError(f"has unknown fields {sorted(unknown)} (allowed: key, params)")
    params = value.get("params") or {}
    if isinstance(params, list | tuple):
        params = {name: name for name in params}
    if not isinstance(params, Mapping) or not all(
        isinstance(k, str) and k.isidentifier() and isinstance(v, str) and v
        for k, v in params.items()
    ):
        raise ValueError(
            '"params" must map placeholder names to attribute names (or list names used as both)'
        )
    return ExceptionKey(value["key"], tuple(params.items()))


def import_exception_class(path: Any) -> type[BaseException]:
    """The class a line names; ``ValueError`` if it cannot be imported or is no exception."""
    if not isinstance(path, str):
        raise ValueError("must be the dotted path of an exception class, as a string")
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ValueError(f"cannot be imported ({exc})") from None
    except Exception as exc:  # the module itself fails: still a message, not a failed request
        raise ValueError(f"cannot be imported ({type(exc).__name__}: {exc})") from None
    if not (isinstance(cls, type) and issubclass(cls, BaseException)):
        raise ValueError("is not an exception class")
    return cls


def parse_exception_keys(raw: Any) -> tuple[dict[type, ExceptionKey], list[tuple[Any, str]]]:
    """The setting → ({class: ExceptionKey}, [(path, problem)]), problems skipped."""
    if not isinstance(raw, Mapping):
        return {}, [("EXCEPTION_KEYS", "must be a dict of dotted path → key")]
    mapping: dict[type, ExceptionKey] = {}
    problems: list[tuple[Any, str]] = []
    for path, value in raw.items():
        try:
            cls = import_exception_class(path)
            mapping[cls] = parse_value(value)
        except ValueError as exc:
            problems.append((path, str(exc)))
    return mapping, problems


def configured_exception_keys(raw: Any) -> dict[type, ExceptionKey]:
    """What the handler uses: the valid lines; each broken one is logged (once per load)."""
    mapping, problems = parse_exception_keys(raw)
    for path, problem in problems:
        logger.error(
            "APIERRORS['EXCEPTION_KEYS'][%r] %s: ignored (see manage.py check).", path, problem
        )
    return mapping
