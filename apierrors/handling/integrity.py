"""Which unique constraint an ``IntegrityError`` broke, named as the model's fields.

A duplicate is a client error (409 ``duplicate``) that should say *which* value is taken; any
other integrity failure (foreign key, NOT NULL, CHECK) stays a plain 409 ``conflict``. The
database driver's message carries the constraint or the columns; it never reaches the body
(it also carries the duplicate value). Nothing here queries the database: on PostgreSQL the
transaction is aborted by the time the error is being rendered.

    SQLite      UNIQUE constraint failed: clinic_patient.identifier
    PostgreSQL  diag.constraint_name / diag.message_detail "Key (identifier)=(…) already exists."
    MariaDB     (1062, "Duplicate entry '…' for key 'identifier'")  (MySQL 8: 'table.key')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from django.apps import apps
from django.db import IntegrityError, connections
from django.db.models import Model, UniqueConstraint

_SQLITE_COLUMNS = re.compile(r"UNIQUE constraint failed: (.+)$")
_SQLITE_INDEX = re.compile(r"UNIQUE constraint failed: index '([^']+)'")
_PG_KEY = re.compile(r"Key \((.+?)\)=")
_MYSQL_KEY = re.compile(r"for key '([^']+)'")
_PG_UNIQUE_VIOLATION = "23505"
_MYSQL_DUPLICATE_CODES = {1062, 1586}  # ER_DUP_ENTRY, ER_DUP_ENTRY_WITH_KEY_NAME
_SQLITE_UNIQUE_CODES = {2067, 1555}  # SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY


@dataclass(frozen=True)
class UniqueViolation:
    """A broken unique constraint; ``model``/``fields`` are None/() when Django can't tell."""

    model: type[Model] | None = None
    fields: tuple[str, ...] = ()

    def message(self) -> str | None:
        """Django's own text for it, e.g. "Patient with this Identifier already exists."."""
        if self.model is None or not self.fields:
            return None
        # unique_error_message only reads _meta; no instance is needed.
        error = self.model.unique_error_message(None, self.model, self.fields)
        return " ".join(error.messages)


def unique_violation(
    exc: IntegrityError, model_hint: type[Model] | None = None
) -> UniqueViolation | None:
    """A ``UniqueViolation`` when ``exc`` is one, else None (another integrity failure).

    ``model_hint`` (the view's model) is tried first when the message names no table.
    """
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    if sqlstate is not None or hasattr(cause, "diag"):
        if sqlstate != _PG_UNIQUE_VIOLATION:
            return None
        diag = cause.diag
        table = getattr(diag, "table_name", None)
        detail = getattr(diag, "message_detail", None) or ""
        match = _PG_KEY.match(detail)
        columns = [c.strip().strip('"') for c in match.group(1).split(",")] if match else []
        return _resolve(table, columns, getattr(diag, "constraint_name", None), model_hint)

    args = exc.args
    if args and isinstance(args[0], int):  # MySQL / MariaDB: (errno, message)
        if args[0] not in _MYSQL_DUPLICATE_CODES:
            return None
        match = _MYSQL_KEY.search(str(args[1]) if len(args) > 1 else "")
        key = match.group(1) if match else None
        table = None
        if key and "." in key:  # MySQL 8 qualifies the key with its table
            table, key = key.rsplit(".", 1)
        return _resolve(table, [], key, model_hint)

    message = str(exc)
    code = getattr(cause, "sqlite_errorcode", None)
    if code is not None and code not in _SQLITE_UNIQUE_CODES:
        return None
    index = _SQLITE_INDEX.search(message)
    if index:
        return _resolve(None, [], index.group(1), model_hint)
    match = _SQLITE_COLUMNS.search(message)
    if not match:
        return None
    qualified = [part.strip() for part in match.group(1).split(",")]
    tables = {p.rsplit(".", 1)[0] for p in qualified if "." in p}
    columns = [p.rsplit(".", 1)[-1] for p in qualified]
    return _resolve(tables.pop() if len(tables) == 1 else None, columns, None, model_hint)


def _resolve(
    table: str | None, columns: list[str], constraint: str | None, model_hint: type[Model] | None
) -> UniqueViolation:
    for model in _candidate_models(table, model_hint):
        by_column = {f.column: f.name for f in model._meta.concrete_fields}
        if columns and all(c in by_column for c in columns):
            return UniqueViolation(model, tuple(by_column[c] for c in columns))
        if constraint:
            fields = _constraint_names(model).get(constraint)
            if fields:
                return UniqueViolation(model, fields)
    return UniqueViolation()


def _candidate_models(table: str | None, model_hint: type[Model] | None) -> list[type[Model]]:
    if table is not None:
        if model_hint is not None and model_hint._meta.db_table == table:
            return [model_hint]
        return [m for m in apps.get_models() if m._meta.db_table == table]
    rest = [m for m in apps.get_models() if m is not model_hint]
    return [model_hint, *rest] if model_hint is not None else rest


@cache
def _constraint_names(model: type[Model]) -> dict[str, tuple[str, ...]]:
    """Every name the database may give a unique constraint of ``model`` → its field names.

    Explicit ``UniqueConstraint`` names; the names Django's schema editor generates for
    ``unique_together`` and ``unique=True``; and the names the databases pick themselves for
    an inline UNIQUE column (PostgreSQL ``<table>_<column>_key``, MySQL the column name).
    """
    opts = model._meta
    table = opts.db_table
    names: dict[str, tuple[str, ...]] = {}
    for constraint in opts.constraints:
        if isinstance(constraint, UniqueConstraint) and constraint.fields:
            names[constraint.name] = tuple(constraint.fields)
    # Only for its name generator (no I/O). Kept: Django has no public API for the names it
    # generates; tests/test_framework_internals.py fails when _create_index_name changes.
    editor = connections["default"].schema_editor()
    by_name = {f.name: f for f in opts.concrete_fields}
    for together in opts.unique_together:
        columns = [by_name[name].column for name in together if name in by_name]
        names.setdefault(editor._create_index_name(table, columns, suffix="_uniq"), tuple(together))
    for field in opts.concrete_fields:
        if not field.unique:
            continue
        for name in (
            field.column,
            f"{table}_{field.column}_key",
            editor._create_index_name(table, [field.column], suffix="_uniq"),
        ):
            names.setdefault(name, (field.name,))
        if field.primary_key:
            names.setdefault(f"{table}_pkey", (field.name,))
            names.setdefault("PRIMARY", (field.name,))
    return names
