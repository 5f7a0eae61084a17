"""Which field a unique violation names, from each database's own error (no database needed).

The demo's duplicate identifier is tested end to end on SQLite, PostgreSQL and MariaDB in
test_http_status.py; these pin down the message shapes of each backend, including the ones
the suite's databases don't produce (MySQL 8's qualified key names, psycopg 2's ``pgcode``).
"""

from types import SimpleNamespace

import pytest
from django.db import IntegrityError

from apierrors.handling.integrity import UniqueViolation, unique_violation
from testproject.clinic.models import Appointment, Patient


class DriverError(Exception):
    """Stands for psycopg's error: ``sqlstate`` (psycopg 3) or ``pgcode`` (2), and ``diag``."""

    def __init__(self, diag: SimpleNamespace, **codes: str) -> None:
        super().__init__("driver message")
        self.diag = diag
        for name, value in codes.items():
            setattr(self, name, value)


def with_cause(cause: Exception, message: str = "") -> IntegrityError:
    exc = IntegrityError(message)
    exc.__cause__ = cause  # as Django's DatabaseErrorWrapper chains the driver's error
    return exc


def pg(sqlstate: str, **diag: str | None) -> IntegrityError:
    return with_cause(DriverError(SimpleNamespace(**diag), sqlstate=sqlstate))


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            IntegrityError("UNIQUE constraint failed: clinic_patient.identifier"),
            UniqueViolation(Patient, ("identifier",)),
        ),
        (
            IntegrityError("UNIQUE constraint failed: clinic_appointment.slot_id"),
            UniqueViolation(Appointment, ("slot",)),
        ),
        (
            IntegrityError(1062, "Duplicate entry 'NC-1' for key 'identifier'"),
            UniqueViolation(Patient, ("identifier",)),
        ),
        (
            IntegrityError(1062, "Duplicate entry 'NC-1' for key 'clinic_patient.identifier'"),
            UniqueViolation(Patient, ("identifier",)),
        ),
        (
            pg(
                "23505",
                table_name="clinic_patient",
                constraint_name="clinic_patient_identifier_key",
                message_detail="Key (identifier)=(NC-1) already exists.",
            ),
            UniqueViolation(Patient, ("identifier",)),
        ),
        (
            pg(
                "23505",
                table_name="clinic_appointment",
                constraint_name="clinic_appointment_slot_id_key",
                message_detail=None,
            ),
            UniqueViolation(Appointment, ("slot",)),
        ),
        (
            with_cause(
                DriverError(
                    SimpleNamespace(
                        table_name="clinic_patient",
                        constraint_name="x",
                        message_detail="Key (identifier)=(NC-1) already exists.",
                    ),
                    pgcode="23505",
                )
            ),
            UniqueViolation(Patient, ("identifier",)),
        ),
    ],
)
def test_unique_violations_name_the_field(exc, expected):
    assert unique_violation(exc) == expected


@pytest.mark.parametrize(
    "exc",
    [
        IntegrityError("NOT NULL constraint failed: clinic_patient.name"),
        IntegrityError("FOREIGN KEY constraint failed"),
        IntegrityError(1452, "Cannot add or update a child row: a foreign key constraint fails"),
        IntegrityError(1048, "Column 'name' cannot be null"),
        pg("23503", table_name="clinic_appointment", constraint_name="fk"),
        pg("23502", table_name="clinic_patient"),
    ],
)
def test_other_integrity_errors_are_not_duplicates(exc):
    assert unique_violation(exc) is None


def test_unknown_constraint_is_still_a_duplicate_without_a_field():
    violation = unique_violation(IntegrityError(1062, "Duplicate entry 'x' for key 'mystery'"))
    assert violation == UniqueViolation()
    assert violation.message() is None


def test_message_is_djangos_own():
    assert UniqueViolation(Patient, ("identifier",)).message() == (
        "Patient with this Identifier already exists."
    )
