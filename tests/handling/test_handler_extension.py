"""A project extends the handler: its own exceptions through ``APIERRORS["EXCEPTION_KEYS"]``,
a ``HANDLER_CLASS`` subclass overriding steps, and the settings behind both (``api_settings``
and the system checks guarding them). Real DRF views, through Django's test client."""

import logging

import pytest
from django.core.checks import run_checks
from django.test import Client, override_settings

from apierrors.conf import api_settings
from apierrors.dictionary.declared import DECLARED, DeclaredError, declare
from apierrors.handling.handler import ExceptionHandler, get_handler
from tests.factories import ErrorCodeFactory
from tests.handling.extension import errors, handlers

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.handling.extension.urls")]

PROBLEM = "application/problem+json"
FHIR = "application/fhir+json"

EXCEPTION_KEYS = {
    "tests.handling.extension.errors.CardDeclined": {
        "key": "card_declined",
        "params": {"reason": "decline_code"},
    },
    "tests.handling.extension.errors.FraudSuspected": "fraud_suspected",
    "tests.handling.extension.errors.SlotTaken": {"key": "slot_taken", "params": ["slot"]},
    "tests.handling.extension.errors.AccountLocked": "account_locked",
}


@pytest.fixture
def client():
    # Some cases answer 5xx on purpose; the default client would re-raise behind them.
    return Client(raise_request_exception=False)


@pytest.fixture
def entries(db):
    """The project's entries, as support staff would add them in the admin."""
    return {
        "card_declined": ErrorCodeFactory(
            key="card_declined",
            error_code=7001,
            status=402,
            title="Card declined",
            message="The card was declined ({reason}).",
            fhir_code="processing",
        ),
        "fraud_suspected": ErrorCodeFactory(
            key="fraud_suspected",
            error_code=7002,
            status=403,
            title="Payment refused",
            message="The payment was refused.",
            fhir_code="security",
        ),
        "slot_taken": ErrorCodeFactory(
            key="slot_taken",
            error_code=7003,
            status=409,
            title="Slot taken",
            message="Slot {slot} was just booked.",
            fhir_code="conflict",
        ),
        "account_locked": ErrorCodeFactory(
            key="account_locked",
            error_code=7004,
            status=423,
            title="Account locked",
            message="This account is locked.",
            fhir_code="security",
        ),
        "resource_gone": ErrorCodeFactory(
            key="resource_gone",
            error_code=7005,
            status=410,
            title="Gone",
            message="{path} was deleted.",
            fhir_code="deleted",
        ),
        "runtime_bug": ErrorCodeFactory(
            key="runtime_bug",
            error_code=7006,
            status=500,
            title="Bug",
            message="A bug.",
            fhir_code="exception",
        ),
    }


@pytest.fixture
def exception_keys(settings, entries):
    settings.APIERRORS = {**settings.APIERRORS, "EXCEPTION_KEYS": EXCEPTION_KEYS}


def get(client, name, accept=PROBLEM, **extra):
    return client.get(f"/api/ext/{name}/", HTTP_ACCEPT=accept, **extra)


# -- APIERRORS["EXCEPTION_KEYS"]: the project's own exceptions -------------------------------


def test_listed_exception_answers_with_its_entry_in_problem_json(client, exception_keys):
    response = get(client, "card-declined")
    assert response.status_code == 402
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert (body["key"], body["error_code"], body["title"]) == (
        "card_declined",
        7001,
        "Card declined",
    )
    assert body["detail"] == "The card was declined (insufficient_funds)."
    assert (response["X-Error-Key"], response["X-Error-Code"]) == ("card_declined", "7001")
    assert b"sk_live_secret" not in response.content  # the SDK's own text stays out


def test_listed_exception_in_the_fhir_format(client, exception_keys):
    response = get(client, "slot-taken", accept=FHIR)
    assert (response.status_code, response["Content-Type"]) == (409, FHIR)
    (issue,) = response.json()["issue"]
    assert (issue["code"], issue["details"]["text"]) == ("conflict", "Slot 42 was just booked.")


@pytest.mark.parametrize(
    ("error_format", "body"),
    [
        ("docplanner", {"error_code": 7003}),
        (
            "shipstream",
            {
                "errors": [
                    {
                        "type": "slot_taken",
                        "error_code": 7003,
                        "message": "Slot 42 was just booked.",
                    }
                ]
            },
        ),
    ],
)
def test_listed_exception_in_the_json_formats(client, exception_keys, settings, error_format, body):
    settings.APIERRORS = {**settings.APIERRORS, "DEFAULT_FORMAT": error_format}
    response = get(client, "slot-taken", accept="application/json")
    assert (response.status_code, response["Content-Type"]) == (409, "application/json")
    assert response.json() == body


def test_unlisted_subclass_maps_as_its_listed_base_and_only_that(client, exception_keys):
    body = get(client, "expired-card").json()
    assert (body["status"], body["key"]) == (402, "card_declined")
    assert body["detail"] == "The card was declined (expired_card)."
    # A sibling under no listed class (only the SDK's unlisted base) stays a bug, textless.
    response = get(client, "gateway-timeout")
    assert (response.status_code, response.json()["key"]) == (500, "internal_error")
    assert b"31 s" not in response.content


def test_most_specific_listed_class_wins(client, exception_keys):
    body = get(client, "fraud").json()
    assert (body["status"], body["key"], body["detail"]) == (
        403,
        "fraud_suspected",
        "The payment was refused.",
    )


def test_a_listed_subclass_of_a_mapped_django_exception_wins_over_the_builtin(
    client, exception_keys
):
    body = get(client, "account-locked").json()
    assert (body["status"], body["key"]) == (423, "account_locked")


def test_a_key_declared_in_code_needs_no_database_row(client, settings):
    declare(
        DeclaredError(
            "card_declined_code", 7101, 402, "Card declined", "Declined: {reason}.", "processing"
        )
    )
    try:
        settings.APIERRORS = {
            **settings.APIERRORS,
            "EXCEPTION_KEYS": {
                "tests.handling.extension.errors.CardDeclined": {
                    "key": "card_declined_code",
                    "params": {"reason": "decline_code"},
                }
            },
        }
        response = get(client, "card-declined", accept=FHIR)
        assert response.status_code == 402
        assert response.json()["issue"][0]["details"]["text"] == "Declined: insufficient_funds."
    finally:
        DECLARED.pop("card_declined_code", None)


def test_a_broken_line_is_skipped_at_request_time_and_logged_once(
    client, entries, settings, caplog
):
    settings.APIERRORS = {
        **settings.APIERRORS,
        "EXCEPTION_KEYS": {
            "tests.handling.extension.errors.NoSuchClass": "card_declined",
            "tests.handling.extension.errors.SlotTaken": {"key": "slot_taken", "parms": ["slot"]},
            "tests.handling.extension.errors.CardDeclined": "card_declined",
        },
    }
    with caplog.at_level(logging.ERROR, logger="apierrors"):
        assert get(client, "card-declined").status_code == 402  # the good line still works
        assert get(client, "slot-taken").status_code == 500  # an unlisted exception's
        get(client, "card-declined")
    logged = [r.getMessage() for r in caplog.records if "EXCEPTION_KEYS" in r.getMessage()]
    assert len(logged) == 2
    assert any("NoSuchClass" in m and "cannot be imported" in m for m in logged)
    assert any("unknown fields ['parms']" in m for m in logged)


def test_changed_setting_is_followed_at_once(client, entries, settings):
    assert get(client, "card-declined").status_code == 500  # not listed: a bug
    settings.APIERRORS = {**settings.APIERRORS, "EXCEPTION_KEYS": EXCEPTION_KEYS}
    assert get(client, "card-declined").status_code == 402
    settings.APIERRORS = {
        **settings.APIERRORS,
        "EXCEPTION_KEYS": {"tests.handling.extension.errors.PaymentError": "fraud_suspected"},
    }
    assert get(client, "card-declined").status_code == 403


# -- APIERRORS["HANDLER_CLASS"]: a subclass overriding steps --------------------------------


def test_an_overridden_mapper_takes_effect(client, entries):
    with override_settings(
        APIERRORS={"HANDLER_CLASS": "tests.handling.extension.handlers.GoneHandler"}
    ):
        response = get(client, "not-found")
        assert response.status_code == 410
        assert response.json()["detail"] == "/api/ext/not-found/ was deleted."
        assert response["Link"] == '<https://docs.example.org/errors/resource_gone>; rel="help"'
    response = get(client, "not-found")
    assert response.status_code == 404  # the setting's end restores the stock handler
    assert "Link" not in response


def test_a_subclass_overrides_request_id_and_log_too(client, entries, settings, caplog):
    settings.APIERRORS = {"HANDLER_CLASS": "tests.handling.extension.handlers.GoneHandler"}
    handlers.GoneHandler.logged.clear()
    with caplog.at_level(logging.ERROR, logger="apierrors"):
        response = get(client, "bug", HTTP_X_AMZN_TRACE_ID="Root=1-abc")
    assert response.status_code == 500
    assert response.json()["request_id"] == "Root=1-abc"
    assert response["X-Request-ID"] == "Root=1-abc"
    assert response["Link"] == '<https://docs.example.org/errors/internal_error>; rel="help"'
    assert handlers.GoneHandler.logged == ["internal_error Root=1-abc"]
    assert not [r for r in caplog.records if r.name == "apierrors"]  # log() replaced
    assert get(client, "not-found").status_code == 410  # with the mapper in the same class


def test_a_subclass_extends_mappers_with_a_method_name_or_a_function(client, entries, settings):
    settings.APIERRORS = {"HANDLER_CLASS": "tests.handling.extension.handlers.SlotHandler"}
    response = get(client, "slot-taken")
    assert (response.status_code, response.json()["detail"]) == (409, "Slot 42 was just booked.")
    assert response["Retry-After"] == "5"
    assert get(client, "bug").json()["key"] == "runtime_bug"
    assert get(client, "not-found").json()["key"] == "not_found"  # the rest as before


def test_an_overridden_catch_all_is_still_the_catch_all(settings):
    """DEBUG_PROPAGATE_EXCEPTIONS lets bugs through: a subclass's own map_unhandled too."""

    class Quiet(ExceptionHandler):
        def map_unhandled(self, exc, request, view):
            return super().map_unhandled(exc, request, view)

    assert Quiet().is_unhandled(RuntimeError())
    assert Quiet().is_unhandled(errors.SlotTaken(1))  # not listed: a bug too
    settings.APIERRORS = {"EXCEPTION_KEYS": EXCEPTION_KEYS}
    assert not Quiet().is_unhandled(errors.SlotTaken(1))


# -- api_settings ---------------------------------------------------------------------------


def test_api_settings_gives_defaults_values_and_imported_classes(settings):
    settings.APIERRORS = {"DEFAULT_FORMAT": "problem"}
    assert api_settings.DEFAULT_FORMAT == "problem"
    assert api_settings.REQUEST_ID_HEADER == "X-Request-ID"
    assert api_settings.HANDLER_CLASS is ExceptionHandler
    settings.APIERRORS = {
        "HANDLER_CLASS": "tests.handling.extension.handlers.GoneHandler",
        "FORMATS": {"gone": "apierrors.formats.problem.ProblemFormat"},
    }
    assert api_settings.DEFAULT_FORMAT == "fhir"
    assert api_settings.HANDLER_CLASS is handlers.GoneHandler
    assert type(get_handler()) is handlers.GoneHandler
    assert api_settings.FORMATS["gone"].__name__ == "ProblemFormat"
    with pytest.raises(AttributeError, match="DEFAULT_FROMAT"):
        api_settings.DEFAULT_FROMAT  # noqa: B018


# -- system checks --------------------------------------------------------------------------


def apierrors_checks(settings, **apierrors):
    settings.APIERRORS = apierrors
    return {
        (m.id, m.msg) for m in run_checks(tags=["compatibility"]) if m.id.startswith("apierrors.")
    }


def test_check_warns_about_a_misspelt_setting_and_passes_a_good_configuration(settings):
    settings.APIERRORS = {"DEFUALT_FORMAT": "problem"}
    (message,) = [m for m in run_checks(tags=["compatibility"]) if m.id.startswith("apierrors")]
    assert message.id == "apierrors.W010"
    assert "APIERRORS['DEFUALT_FORMAT'] is not an apierrors setting" in message.msg
    assert message.hint == "Did you mean 'DEFAULT_FORMAT'?"
    declare(
        DeclaredError("card_declined_check", 7102, 402, "Card declined", "Declined.", "processing")
    )
    try:
        assert (
            apierrors_checks(
                settings,
                EXCEPTION_KEYS={
                    "tests.handling.extension.errors.CardDeclined": "card_declined_check"
                },
                HANDLER_CLASS="tests.handling.extension.handlers.SlotHandler",
            )
            == set()
        )
    finally:
        DECLARED.pop("card_declined_check", None)


def test_check_reports_each_broken_exception_keys_line(settings):
    found = apierrors_checks(
        settings,
        EXCEPTION_KEYS={
            "tests.handling.extension.errors.NoSuchClass": "card_declined",
            "tests.handling.extension.urls.RAISERS": "card_declined",
            "tests.handling.extension.errors.SlotTaken": {"params": ["slot"]},
            "tests.handling.extension.errors.CardDeclined": "card_declinde",
        },
    )
    assert {i for i, _m in found} == {"apierrors.E012", "apierrors.W011"}
    text = "\n".join(m for _i, m in sorted(found))
    assert "['tests.handling.extension.errors.NoSuchClass'] cannot be imported" in text
    assert "['tests.handling.extension.urls.RAISERS'] is not an exception class" in text
    assert "['tests.handling.extension.errors.SlotTaken'] must be a dictionary key" in text
    assert "CardDeclined to 'card_declinde', which no code declares" in text


def test_check_reports_a_broken_handler_class(settings):
    assert apierrors_checks(settings, HANDLER_CLASS="tests.handling.extension.handlers.Nope") == {
        (
            "apierrors.E011",
            "APIERRORS['HANDLER_CLASS'] is 'tests.handling.extension.handlers.Nope', "
            'which cannot be imported: Module "tests.handling.extension.handlers" '
            'does not define a "Nope" attribute/class',
        )
    }
    ((_id, text),) = apierrors_checks(
        settings, HANDLER_CLASS="tests.handling.extension.handlers.NotAHandler"
    )
    assert _id == "apierrors.E013" and "not a subclass of" in text
    ((_id, text),) = apierrors_checks(
        settings, HANDLER_CLASS="tests.handling.extension.handlers.BrokenMappersHandler"
    )
    assert _id == "apierrors.E013"
    assert "MAPPERS[SlotTaken] names 'map_slot_taken_typo'" in text


def test_check_reports_a_maintenance_switch_that_does_not_import(settings):
    ((_id, text),) = apierrors_checks(
        settings, MAINTENANCE="tests.handling.extension.nowhere.switch"
    )
    assert _id == "apierrors.E011" and "APIERRORS['MAINTENANCE']" in text
