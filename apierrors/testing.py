"""Helpers for a host project's own tests: override an entry, assert an error response.

    from apierrors.testing import assert_error_response, override_error

    @override_error("appointment_unavailable", message="Slot gone.", status=409)
    def test_booking_a_taken_slot(client):
        response = client.post("/api/v1/appointments/", {...})
        exc = assert_error_response(response, 409, key="appointment_unavailable")
        assert exc.message == "Slot gone."

The override needs no database: it lies on top of the in-memory dictionary, wins over both the
database's copy and the code's declaration, survives a reload of the dictionary (an admin edit
during the test) and is visible to every thread (a live server's too). With pytest, the
``override_error`` fixture (``apierrors.pytest_plugin``, registered on install) undoes its
overrides at teardown.
"""

from __future__ import annotations

import difflib
import unittest
from typing import Any

from django.core.exceptions import ValidationError
from django.test.utils import TestContextDecorator

from .client import APIClientError, exception_for_response
from .client.headers import header
from .dictionary.catalog import Entry, EntryOverride, catalog

__all__ = ["assert_error_response", "override_error"]

# How much of a body an assertion message shows.
_BODY_LIMIT = 2000


class override_error(TestContextDecorator):  # lower case, like override_settings
    """Change one dictionary entry for a block, a test, or every test of a class.

    A context manager (``with override_error(...) as entry:``), a decorator of test functions
    and methods (sync or async), of ``unittest``/Django test classes (each test, not
    ``setUpClass``/``setUpTestData``) and of plain pytest classes (their ``test*`` methods).
    Only the fields given change; ``message`` and ``title`` replace the text in every
    language (gettext's translations and the database's are ignored while overridden), and
    ``message`` may use placeholders like a real entry's (``"No such {resource}: {id}"``).
    Overrides nest: an inner one lies on top of the outer one, and each exit undoes exactly
    its own.

    The key must exist: declared in code, or in the database's dictionary as last read (a
    test without database access sees only the keys declared in code). A typo raises
    ``LookupError`` naming the close matches.
    """

    def __init__(
        self,
        key: str,
        *,
        message: str | None = None,
        title: str | None = None,
        status: int | None = None,
        error_code: int | None = None,
        fhir_code: str | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(key, str):
            raise TypeError(f"override_error() needs the entry's key (a str), not {key!r}")
        changes: dict[str, Any] = {}
        for name, value, kind in (
            ("message", message, str),
            ("title", title, str),
            ("status", status, int),
            ("error_code", error_code, int),
            ("fhir_code", fhir_code, str),
        ):
            if value is None:
                continue
            if not isinstance(value, kind) or isinstance(value, bool):
                raise TypeError(
                    f"override_error({key!r}): {name} must be a {kind.__name__}, not {value!r}"
                )
            changes[name] = int(value) if kind is int else value  # HTTPStatus -> int
        if not changes:
            raise TypeError(
                f"override_error({key!r}) changes nothing: pass message, title, "
                "status, error_code or fhir_code"
            )
        if "status" in changes and not 400 <= changes["status"] <= 599:
            raise ValueError(
                f"override_error({key!r}): status {changes['status']} is not an "
                "error status (use 400-599)"
            )
        if "message" in changes:
            try:
                from .dictionary.message_template import parse_template

                parse_template(changes["message"])
            except ValidationError as exc:
                raise ValueError(
                    f"override_error({key!r}): message {changes['message']!r}: "
                    f"{' '.join(exc.messages)}"
                ) from None
        self.key = key
        self.changes = changes
        # The overrides this object has active, innermost last (one object may be entered
        # again while active, e.g. a decorated test calling another decorated one).
        self._active: list[EntryOverride] = []

    def enable(self) -> Entry:
        """Apply the override; returns the entry as the catalog now gives it."""
        if "fhir_code" in self.changes:
            from .models import FHIR_ISSUE_TYPES  # needs the app registry: not at import time

            if self.changes["fhir_code"] not in FHIR_ISSUE_TYPES:
                raise ValueError(
                    f"override_error({self.key!r}): fhir_code "
                    f"{self.changes['fhir_code']!r} is not a FHIR R4 IssueType"
                )
        base = catalog.base_entry(self.key)
        if base is None:
            raise LookupError(_unknown_key_message(self.key))
        override = EntryOverride(base, self.changes)
        catalog.add_override(override)
        self._active.append(override)
        return catalog.get(self.key)

    def disable(self) -> None:
        """Undo the most recent ``enable`` of this object."""
        catalog.remove_override(self._active.pop())

    def decorate_class(self, cls: type) -> type:
        """unittest classes per test (Django's way); plain classes by their test methods."""
        if issubclass(cls, unittest.TestCase):
            return super().decorate_class(cls)
        for name, value in list(vars(cls).items()):
            if name.startswith("test") and callable(value):
                setattr(cls, name, self.decorate_callable(value))
        return cls

    def __repr__(self) -> str:
        changes = ", ".join(f"{k}={v!r}" for k, v in self.changes.items())
        return f"override_error({self.key!r}, {changes})"


def _unknown_key_message(key: str) -> str:
    known = sorted(catalog.entries())
    text = f"Cannot override unknown error key {key!r}: it is neither declared in code nor in "
    text += "the error dictionary"
    if not catalog._loaded:  # the database was not read (no access in this test, or down)
        text += (
            " (whose database copy could not be read here, e.g. in a test without "
            "database access: only keys declared in code can be overridden)"
        )
    matches = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
    if matches:
        text += ". Did you mean " + " or ".join(repr(m) for m in matches) + "?"
    else:
        text += f". Known keys: {', '.join(known)}."
    return text


def assert_error_response(
    response: Any,
    status: int | None = None,
    *,
    key: str | None = None,
    error_code: int | None = None,
) -> APIClientError:
    """Assert ``response`` is an error with the given status, key and error_code (each
    checked only when given), in any format; returns it parsed, as ``apierrors.client``
    would raise it (``.message``, ``.details``, ``.data``...).

    Works on Django's and DRF's test client responses and on requests' and httpx's. The
    ``X-Error-Code``/``X-Error-Key`` headers are read first, then the body.
    """
    exc = exception_for_response(response)
    expected = [
        f"{name} {value!r}"
        for name, value in (("status", status), ("key", key), ("error_code", error_code))
        if value is not None
    ]
    wanted = f" ({', '.join(expected)})" if expected else ""
    if exc is None:
        got = int(response.status_code)
        reason = getattr(response, "reason_phrase", None) or getattr(response, "reason", "")
        raise AssertionError(
            f"Expected an error response{wanted}, got {got} {reason}".rstrip()
            + f".\n{_body(response)}"
        )
    differences = []
    if status is not None and exc.status != int(status):
        differences.append(f"status {exc.status}, expected {int(status)}")
    if key is not None and exc.key != key:
        got_key = repr(exc.key) if exc.key else "none (no X-Error-Key header, none in the body)"
        differences.append(f"key {got_key}, expected {key!r}")
    if error_code is not None and exc.error_code != error_code:
        got_code = (
            exc.error_code
            if exc.error_code is not None
            else "none (no X-Error-Code header, none in the body)"
        )
        differences.append(f"error_code {got_code}, expected {error_code!r}")
    if differences:
        raise AssertionError(
            "Error response differs: "
            + "; ".join(differences)
            + f".\nGot: {exc}\n{_body(response, exc.body)}"
        )
    return exc


def _body(response: Any, content: bytes | None = None) -> str:
    if content is None:
        try:
            content = bytes(response.content or b"")
        except Exception:  # a streamed body that was never read
            content = b""
    content_type = header(getattr(response, "headers", None), "Content-Type") or "no type"
    if not content:
        return f"Body ({content_type}): empty"
    text = content.decode("utf-8", errors="replace")
    if len(text) > _BODY_LIMIT:
        text = text[:_BODY_LIMIT] + f"… ({len(text) - _BODY_LIMIT} more characters)"
    return f"Body ({content_type}): {text}"
