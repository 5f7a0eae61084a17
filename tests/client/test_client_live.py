"""Round trips: the demo server on 127.0.0.1 answers, apierrors.client reads.

For every status the server produces and each of the four formats, the client raises the
expected class with the dictionary's ``error_code`` and the admin's edited text. Each entry is
edited through the ORM first (message, title and code), so a pass proves the text travelled
from the database through the catalog, the handler, the format and the wire.

Statuses the clinic API is never driven to (a 401 without ``WWW-Authenticate``, a 409 that
is not a duplicate, a 500, a 503 from an unreachable database) come from the small views
below, which raise exactly what application code would raise; they are served on top of the
clinic's own URLs. Some cases switch a setting on first (maintenance, a booking rate of zero,
required If-Match, OpenAPI validation, a small upload limit).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests
from django.db import IntegrityError, OperationalError
from django.urls import path
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    schema,
)
from rest_framework.permissions import AllowAny

from apierrors import exceptions as server
from apierrors.client import (
    APIClientError,
    BadRequest,
    Conflict,
    Forbidden,
    InvalidAccessToken,
    MethodNotAllowed,
    PreconditionFailed,
    RateLimitExceeded,
    ResourceDoesNotExist,
    ServerError,
    ServiceUnavailable,
    Unauthorized,
    UnprocessableEntity,
    install,
    parse_body,
)
from apierrors.models import ErrorCode
from testproject import urls as project_urls

from ..factories import (
    AppointmentFactory,
    PatientFactory,
    PracticeFactory,
    SlotFactory,
    StaffFactory,
    TokenFactory,
)

# Every alias: the middleware opens a transaction on each. The flush after each test re-runs
# post_migrate, which puts the built-in dictionary back for the next one.
pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True, databases="__all__")]

FORMATS = ["fhir", "problem", "docplanner", "shipstream"]
ACCEPT = {
    "fhir": "application/fhir+json",
    "problem": "application/problem+json",
    "docplanner": "application/json",
    "shipstream": "application/json",
}
SECRET = "secret-detail-that-must-not-leave-the-server"


# --- the extra views, and a URLconf serving them beside the clinic's ---------------------

RAISERS: dict[str, Callable[[], BaseException]] = {
    "unauthorized": lambda: server.Unauthorized(),
    "conflict": lambda: IntegrityError(SECRET),  # not a unique violation: a plain conflict
    "internal_error": lambda: RuntimeError(SECRET),
    "service_unavailable": lambda: OperationalError(SECRET),
}


@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@schema(None)  # not part of the API: keep it out of the OpenAPI schema
def raise_in_drf_view(request: Any, kind: str) -> Any:
    raise RAISERS[kind]()


def raise_in_django_view(request: Any) -> Any:
    raise RuntimeError(SECRET)  # not DRF: Django's handler500 answers


urlpatterns = [
    path("api/v1/raise/<str:kind>/", raise_in_drf_view),
    path("api/v1/crash/", raise_in_django_view),
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500


# --- cases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    key: str
    status: int
    cls: type[APIClientError]
    method: str
    path: str  # {missing}, {patient}, {other}, {slot}… are filled in per test
    json: Any = None
    data: bytes | None = None
    content_type: str | None = None
    token: str | None = "north"  # a staff user's token, "bad" for a wrong one, None for none
    accept: str | None = None  # overrides the format's Accept
    headers: dict[str, str] = field(default_factory=dict)
    # Settings for this case: APIERRORS keys, booking throttle rates, plain Django settings.
    apierrors: dict[str, Any] = field(default_factory=dict)
    throttle_rates: dict[str, str] = field(default_factory=dict)
    django: dict[str, Any] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)  # the message template's
    # (path, message prefix) per field/part-level detail, in order.
    field_details: list[tuple[str, str]] = field(default_factory=list)
    whole_detail: str | None = None  # prefix of the one whole-request detail (path "")
    retry_after: int | None = None
    rate_limit_remaining: int | None = None  # checked when given (bookings always send one)

    def __str__(self) -> str:
        return self.id


CASES = [
    Case("400-validation", "invalid_request", 400, BadRequest, "POST",
         "/api/v1/patients/import/",
         json={"items": [{"identifier": "NC-9", "name": "Bad Email", "email": "nope"}]},
         field_details=[("items.0.email", "Enter a valid email address.")]),
    Case("400-parse", "parse_error", 400, BadRequest, "POST", "/api/v1/patients/",
         data=b'{"name": ', content_type="application/json", whole_detail="JSON parse error"),
    Case("400-openapi", "openapi_validation", 400, BadRequest, "POST", "/api/v1/appointments/",
         json={"slot": "not-a-number", "patient": "{patient}"},
         apierrors={"OPENAPI_VALIDATION": True}, field_details=[("invalid_body", "slot")]),
    Case("401-no-token", "authentication_failed", 401, InvalidAccessToken, "GET",
         "/api/v1/patients/", token=None),
    Case("401-bad-token", "authentication_failed", 401, InvalidAccessToken, "GET",
         "/api/v1/patients/", token="bad"),
    Case("401-unauthorized", "unauthorized", 401, Unauthorized, "GET",
         "/api/v1/raise/unauthorized/", token=None),
    Case("403", "authorization_failed", 403, Forbidden, "GET", "/api/v1/patients/{other}/"),
    Case("404-resource", "unknown_resource", 404, ResourceDoesNotExist, "GET",
         "/api/v1/patients/{missing}/", params={"resource": "Patient", "id": "{missing}"}),
    Case("404-url", "not_found", 404, ResourceDoesNotExist, "GET", "/api/v1/no-such-thing/"),
    Case("405", "method_not_allowed", 405, MethodNotAllowed, "DELETE",
         "/api/v1/practitioners/{practitioner}/", params={"method": "DELETE"}),
    Case("406", "not_acceptable", 406, APIClientError, "GET", "/api/v1/patients/",
         accept="text/csv"),
    Case("409-duplicate", "duplicate", 409, Conflict, "POST", "/api/v1/patients/",
         json={"identifier": "{identifier}", "name": "Same Identifier"},
         field_details=[("identifier", "Patient with this Identifier already exists.")]),
    Case("409-protected", "protected", 409, Conflict, "DELETE", "/api/v1/patients/{patient}/",
         whole_detail="Still referenced by: appointment."),
    Case("409-conflict", "conflict", 409, Conflict, "GET", "/api/v1/raise/conflict/"),
    Case("412", "precondition_failed", 412, PreconditionFailed, "PATCH",
         "/api/v1/patients/{patient}/", json={"name": "Renamed"},
         headers={"If-Match": '"not-the-current-etag"'}),
    Case("413", "request_too_large", 413, APIClientError, "POST", "/api/v1/patients/",
         data=b'{"name": "' + b"x" * 2000 + b'"}', content_type="application/json",
         django={"DATA_UPLOAD_MAX_MEMORY_SIZE": 1000}),
    Case("415", "unsupported_media_type", 415, APIClientError, "POST", "/api/v1/patients/",
         data=b"name=x", content_type="text/plain", params={"media_type": "text/plain"}),
    Case("422", "appointment_unavailable", 422, UnprocessableEntity, "POST",
         "/api/v1/appointments/", json={"slot": "{slot}", "patient": "{patient}"}),
    Case("428", "precondition_required", 428, APIClientError, "PATCH",
         "/api/v1/patients/{patient}/", json={"name": "Renamed"},
         apierrors={"REQUIRE_IF_MATCH": True}),
    Case("429", "throttled", 429, RateLimitExceeded, "POST", "/api/v1/appointments/",
         json={"slot": "{free_slot}", "patient": "{patient}"},
         throttle_rates={"booking": "0/minute"}, retry_after=60, rate_limit_remaining=0),
    Case("500-drf", "internal_error", 500, ServerError, "GET", "/api/v1/raise/internal_error/"),
    Case("500-django", "internal_error", 500, ServerError, "GET", "/api/v1/crash/"),
    Case("503-database", "service_unavailable", 503, ServiceUnavailable, "GET",
         "/api/v1/raise/service_unavailable/", retry_after=30),
    Case("503-maintenance", "maintenance", 503, ServiceUnavailable, "GET", "/api/v1/patients/",
         apierrors={"MAINTENANCE": True, "MAINTENANCE_RETRY_AFTER": 120}, retry_after=120),
]  # fmt: skip


# --- fixtures -----------------------------------------------------------------------------


@dataclass
class Clinic:
    url: str
    tokens: dict[str, str]
    values: dict[str, str]

    def fill(self, value: Any) -> Any:
        if isinstance(value, str):
            if value.startswith("{") and value.endswith("}") and value[1:-1] in self.values:
                return self.values[value[1:-1]]  # keeps ints ints (OpenAPI checks types)
            return value.format(**self.values) if "{" in value else value
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        return value

    def request_kwargs(self, case: Case, fmt: str) -> dict[str, Any]:
        headers = {"Accept": case.accept or ACCEPT[fmt], **case.headers}
        if case.token == "bad":
            headers["Authorization"] = "Bearer not-a-valid-token"
        elif case.token:
            headers["Authorization"] = f"Bearer {self.tokens[case.token]}"
        if case.status >= 500:
            headers["X-Request-ID"] = f"live-{uuid.uuid4().hex[:12]}"
        kwargs: dict[str, Any] = {"headers": headers}
        if case.json is not None:
            kwargs["json"] = self.fill(case.json)
        elif case.data is not None:
            kwargs["content"] = case.data
            headers["Content-Type"] = case.content_type
        return kwargs


@pytest.fixture
def clinic(live_server: Any, settings: Any) -> Clinic:
    """A practice with a staff token, a patient with a booked slot, another practice's patient."""
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    practice = PracticeFactory()
    token = TokenFactory(user=StaffFactory(practice=practice).user)
    appointment = AppointmentFactory(
        patient=PatientFactory(practice=practice), slot__practitioner__practice=practice
    )
    patient, slot = appointment.patient, appointment.slot
    values = {
        "missing": str(uuid.uuid4()),
        "patient": str(patient.pk),
        "patient_name": patient.name,
        "identifier": patient.identifier,
        "other": str(PatientFactory(practice=PracticeFactory()).pk),
        "slot": slot.pk,
        "free_slot": SlotFactory(practitioner=slot.practitioner).pk,
        "practitioner": slot.practitioner_id,
    }
    return Clinic(live_server.url, {"north": token.key}, values)


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield install(s)


def configure(settings: Any, fmt: str, case: Case | None = None) -> None:
    # The DEFAULT_FORMAT decides for docplanner/shipstream (and for a 406, whose Accept
    # cannot name a format); fhir and problem are also asked for by Accept.
    settings.APIERRORS = {
        **settings.APIERRORS,
        "DEFAULT_FORMAT": fmt,
        **(case.apierrors if case else {}),
    }
    if case is None:
        return
    if case.apierrors.get("OPENAPI_VALIDATION") and not any(
        m.startswith("apierrors.openapi.") for m in settings.MIDDLEWARE
    ):
        pytest.skip("OpenAPI validation is not installed (pip install -e '.[openapi]')")
    if case.throttle_rates:
        rest = settings.REST_FRAMEWORK
        rates = {**rest.get("DEFAULT_THROTTLE_RATES", {}), **case.throttle_rates}
        settings.REST_FRAMEWORK = {**rest, "DEFAULT_THROTTLE_RATES": rates}
    for name, value in case.django.items():
        setattr(settings, name, value)


def edit_entry(case: Case, clinic: Clinic) -> tuple[ErrorCode, str]:
    """Edit the entry as support staff would; return it and the message expected on the wire."""
    entry = ErrorCode.objects.get(key=case.key)
    placeholders = " ".join(f"{name}={{{name}}}" for name in case.params)
    entry.message = f"Edited by support ({case.key}) {placeholders}".strip()
    entry.title = f"Edited title {case.key}"
    entry.error_code += 1000
    entry.save()  # post_save: the catalog's stamp moves on commit (autocommit here)
    params = {k: clinic.fill(v) for k, v in case.params.items()}
    return entry, entry.message.format(**params)


def reason_of(response: Any) -> str:
    return getattr(response, "reason", None) or response.reason_phrase


def send(http: Any, clinic: Clinic, case: Case, fmt: str) -> APIClientError:
    kwargs = clinic.request_kwargs(case, fmt)
    url = clinic.url + clinic.fill(case.path)
    if isinstance(http, requests.Session):
        if "content" in kwargs:
            kwargs["data"] = kwargs.pop("content")
        kwargs["timeout"] = 30
    with pytest.raises(APIClientError) as info:
        http.request(case.method, url, **kwargs)
    exc = info.value
    exc.sent_request_id = kwargs["headers"].get("X-Request-ID")  # for the checks below
    return exc


def check_details(got: list[tuple[str, str]], expected: list[tuple[str, str]]) -> None:
    assert [path for path, _ in got] == [path for path, _ in expected], got
    for (_, message), (_, prefix) in zip(got, expected, strict=True):
        assert message.startswith(prefix), (message, prefix)


def check(exc: APIClientError, case: Case, fmt: str, entry: ErrorCode, message: str) -> None:
    assert type(exc) is case.cls, (type(exc), exc)
    assert exc.status == case.status
    assert exc.error_code == entry.error_code
    assert exc.key == case.key
    assert exc.format == fmt

    if fmt == "docplanner":
        # {"error_code": N} carries no text: the client falls back to the reason phrase.
        assert exc.message == reason_of(exc.response)
        assert exc.data == {"error_code": entry.error_code}
        assert exc.details == []
    else:
        assert exc.message == message
        if case.whole_detail:
            assert len(exc.details) == 1 and exc.details[0][0] == ""
            assert exc.details[0][1].startswith(case.whole_detail)
        else:
            check_details(exc.details, case.field_details)
    if fmt == "problem":
        assert exc.title == entry.title
        assert exc.data["status"] == case.status

    # The body's own error_code agrees with the header the client preferred.
    if fmt in ("problem", "docplanner", "shipstream"):
        assert parse_body(exc.body, exc.response.headers["Content-Type"]).error_code == (
            entry.error_code
        )

    if case.status >= 500:
        assert exc.request_id == exc.sent_request_id  # echoed in X-Request-ID
        if fmt != "docplanner":
            body_id = parse_body(exc.body, exc.response.headers["Content-Type"]).request_id
            assert body_id == exc.sent_request_id
    else:
        assert exc.request_id is None
    assert SECRET.encode() not in exc.body
    assert exc.retry_after == case.retry_after
    if case.rate_limit_remaining is not None:
        assert exc.rate_limit_remaining == case.rate_limit_remaining
    assert str(case.status) in str(exc) and "\n" not in str(exc)


# --- tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_round_trip(
    clinic: Clinic, session: requests.Session, settings: Any, case: Case, fmt: str
) -> None:
    configure(settings, fmt, case)
    entry, message = edit_entry(case, clinic)
    exc = send(session, clinic, case, fmt)
    check(exc, case, fmt, entry, message)


HTTPX_CASES = [c for c in CASES if c.id in ("400-validation", "404-resource", "429", "500-drf")]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", HTTPX_CASES, ids=str)
def test_round_trip_httpx(clinic: Clinic, settings: Any, case: Case, fmt: str) -> None:
    configure(settings, fmt, case)
    entry, message = edit_entry(case, clinic)
    with httpx.Client(timeout=30) as http:
        exc = send(install(http), clinic, case, fmt)
    check(exc, case, fmt, entry, message)


@pytest.mark.parametrize(
    ("path", "fmt"),
    [("/api/v1/docplanner/bookings/", "docplanner"),
     ("/api/v1/shipstream/appointments/", "shipstream")],
)  # fmt: skip
def test_partner_endpoints_answer_in_their_own_format(
    clinic: Clinic, session: requests.Session, path: str, fmt: str
) -> None:
    """The view's ``error_format`` wins over both Accept and DEFAULT_FORMAT (fhir)."""
    case = Case("422-" + fmt, "appointment_unavailable", 422, UnprocessableEntity, "POST",
                path, json={"slot": "{slot}", "patient": "{patient}"})  # fmt: skip
    entry, message = edit_entry(case, clinic)
    kwargs = clinic.request_kwargs(case, "problem")  # asks for problem+json; ignored
    with pytest.raises(UnprocessableEntity) as info:
        session.post(clinic.url + path, timeout=30, **kwargs)
    check(info.value, case, fmt, entry, message)


def test_edits_show_up_on_the_next_response(
    clinic: Clinic, session: requests.Session, settings: Any
) -> None:
    """Two edits in a row: each is on the wire for the very next error, no restart."""
    configure(settings, "problem")
    case = next(c for c in CASES if c.id == "404-resource")
    kwargs = clinic.request_kwargs(case, "problem")
    url = clinic.url + clinic.fill(case.path)
    entry = ErrorCode.objects.get(key=case.key)
    for text in ("First wording for {resource} {id}.", "Second wording for {resource} {id}."):
        entry.message = text
        entry.save()
        with pytest.raises(ResourceDoesNotExist) as info:
            session.get(url, timeout=30, **kwargs)
        assert info.value.message == text.format(resource="Patient", id=clinic.values["missing"])


def test_success_passes_through(clinic: Clinic, session: requests.Session) -> None:
    headers = {"Authorization": f"Bearer {clinic.tokens['north']}"}
    response = session.get(clinic.url + clinic.fill("/api/v1/patients/{patient}/"), headers=headers)
    assert response.status_code == 200
    assert response.json()["name"] == clinic.values["patient_name"]
