"""A real HTTP client (``requests``) against the demo API served on 127.0.0.1.

What a client written without apierrors sees on the wire: statuses, the headers it acts on
(``WWW-Authenticate``, ``ETag``, ``Allow``, ``Retry-After``, ``X-Rate-Limit-Remaining``,
``X-Request-ID``) and bodies in the chosen format.
"""

from collections.abc import Iterator

import pytest
import requests
from pytest_django.live_server_helper import LiveServer

from testproject.clinic.demo_data import (
    DEMO_PATIENT_ID,
    DEMO_TOKEN,
    OTHER_PRACTICE_PATIENT_ID,
    load_demo_data,
)

from ..factories import SlotFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker) -> Iterator[str]:
    with django_db_blocker.unblock():
        live = LiveServer("127.0.0.1:0")
    yield live.url
    live.stop()


@pytest.fixture
def api(server) -> Iterator[tuple[str, requests.Session]]:
    load_demo_data()
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {DEMO_TOKEN}"
        yield server, session


def test_server_listens_on_loopback(server):
    assert server.startswith("http://127.0.0.1:")


def test_credentials(api):
    base, session = api
    missing = requests.get(f"{base}/api/v1/patients/", timeout=10)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert missing.headers["Content-Type"] == "application/fhir+json"
    wrong = requests.get(
        f"{base}/api/v1/patients/", timeout=10, headers={"Authorization": "Bearer wrong"}
    )
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    forbidden = session.get(f"{base}/api/v1/patients/{OTHER_PRACTICE_PATIENT_ID}/", timeout=10)
    assert forbidden.status_code == 403
    assert "WWW-Authenticate" not in forbidden.headers


def test_conditional_update(api):
    base, session = api
    url = f"{base}/api/v1/patients/{DEMO_PATIENT_ID}/"
    first = session.get(url, timeout=10)
    etag = first.headers["ETag"]
    assert session.get(url, headers={"If-None-Match": etag}, timeout=10).status_code == 304
    updated = session.patch(url, json={"name": "Ada King"}, headers={"If-Match": etag}, timeout=10)
    assert updated.status_code == 200
    assert updated.headers["ETag"] != etag
    stale = session.patch(url, json={"name": "Lost update"}, headers={"If-Match": etag}, timeout=10)
    assert stale.status_code == 412
    assert stale.json()["issue"][0]["details"]["text"] == (
        "The resource has been modified since the precondition was specified."
    )
    assert session.get(url, timeout=10).json()["name"] == "Ada King"


def test_method_media_type_and_conflict(api):
    base, session = api
    not_allowed = session.delete(f"{base}/api/v1/practitioners/", timeout=10)
    assert not_allowed.status_code == 405
    assert not_allowed.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert (
        session.get(
            f"{base}/api/v1/patients/", headers={"Accept": "text/csv"}, timeout=10
        ).status_code
        == 406
    )
    unsupported = session.post(
        f"{base}/api/v1/patients/",
        data="<p/>",
        headers={"Content-Type": "application/xml"},
        timeout=10,
    )
    assert unsupported.status_code == 415
    duplicate = session.post(
        f"{base}/api/v1/patients/",
        timeout=10,
        json={"identifier": "NC-0001", "name": "Twin"},
        headers={"Accept": PROBLEM},
    )
    assert duplicate.status_code == 409
    assert duplicate.headers["Content-Type"] == PROBLEM
    assert duplicate.json()["errors"][0]["pointer"] == "#/identifier"


def test_rate_limit(api, settings):
    base, session = api
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"booking": "2/minute"},
    }
    remaining = []
    for _ in range(3):
        response = session.post(
            f"{base}/api/v1/appointments/",
            timeout=10,
            json={"slot": SlotFactory().pk, "patient": str(DEMO_PATIENT_ID)},
        )
        remaining.append((response.status_code, response.headers["X-Rate-Limit-Remaining"]))
    assert remaining == [(201, "1"), (201, "0"), (429, "0")]
    assert int(response.headers["Retry-After"]) > 0


def test_maintenance_and_admin(api, settings):
    base, session = api
    settings.APIERRORS = {**settings.APIERRORS, "MAINTENANCE": True, "MAINTENANCE_RETRY_AFTER": 120}
    response = session.get(f"{base}/api/v1/patients/", timeout=10)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "120"
    assert response.headers["X-Error-Key"] == "maintenance"
    admin = requests.get(f"{base}/admin/login/", timeout=10)
    assert admin.status_code == 200
    assert admin.headers["Content-Type"].startswith("text/html")


def test_outside_drf(api, settings):
    base, session = api
    unknown = session.get(f"{base}/api/v1/nothing-here/", timeout=10)
    assert unknown.status_code == 404
    assert unknown.headers["Content-Type"] == "application/fhir+json"
    assert (
        requests.get(f"{base}/nothing-here/", timeout=10)
        .headers["Content-Type"]
        .startswith("text/html")
    )
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    too_large = session.post(
        f"{base}/api/v1/patients/", timeout=10, json={"identifier": "BIG", "name": "x" * 5000}
    )
    assert too_large.status_code == 413
    bad_host = requests.get(
        f"{base}/api/v1/patients/", headers={"Host": "evil.example"}, timeout=10
    )
    assert bad_host.status_code == 400
    assert bad_host.headers["Content-Type"] == "application/fhir+json"


def test_openapi_validation_of_the_shipstream_endpoint(api, settings):
    base, session = api
    settings.APIERRORS = {**settings.APIERRORS, "OPENAPI_VALIDATION": True}
    response = session.post(
        f"{base}/api/v1/shipstream/appointments/", json={"slot": "x"}, timeout=10
    )
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["type"] == "openapi"
    assert {d["key"] for d in error["details"]} == {"invalid_body"}
