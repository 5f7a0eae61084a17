"""Schemathesis over the demo API's own OpenAPI schema: every answer is what the schema says.

The schema (``/api/schema/``, drf-spectacular + ``apierrors.schema``) documents each
operation's error responses. For every operation Schemathesis generates valid and invalid
requests, sends them to the WSGI application in-process (inside the test's transaction), and
checks each response: no 5xx, a documented status, a documented content type, the documented
headers, and a body matching the documented schema — the error bodies included.

Bounded by ``max_examples`` per operation and mode, and a per-example deadline; examples are
derandomized, so CI sees the same requests every run.
"""

from datetime import timedelta

import pytest

pytest.importorskip("drf_spectacular")
schemathesis = pytest.importorskip("schemathesis")

from django.core.signals import request_finished, request_started  # noqa: E402
from django.db import close_old_connections  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from testproject.clinic.demo_data import DEMO_TOKEN  # noqa: E402
from testproject.wsgi import application  # noqa: E402

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 10


def check_operation(operation, mode: GenerationMode) -> None:
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=timedelta(seconds=5),
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        case.call_and_validate(headers={"Authorization": f"Bearer {DEMO_TOKEN}"}, checks=CHECKS)

    run()


@pytest.fixture
def wsgi_in_test_transaction():
    """As Django's test client does: don't close the test's connection between requests.

    The WSGI handler closes "old" connections at each request's start and end; inside the
    test's transaction that would mark it for rollback (PostgreSQL, MariaDB).
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_demo_api_conforms_to_its_schema(demo, wsgi_in_test_transaction):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_in_test_transaction)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20  # every route of the demo is in the schema
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                check_operation(operation, mode)
            except Exception as exc:  # collect all operations' failures, then report
                failures.append(f"{operation.verbose_name} [{mode.value}]: {exc}")
    assert not failures, "\n\n".join(failures)
