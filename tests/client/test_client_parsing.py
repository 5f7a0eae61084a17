"""apierrors.client against hand-made responses: every format, status class and bad body.

Each response is built twice, as a real ``requests.Response`` and a real ``httpx.Response``;
the hooks are exercised end to end against a small stdlib HTTP server on 127.0.0.1. Nothing
here needs Django.
"""

from __future__ import annotations

import asyncio
import json
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import requests
from requests.structures import CaseInsensitiveDict

from apierrors import client
from apierrors.client import (
    APIClientError,
    BadRequest,
    ClientError,
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
    exception_for_response,
    pointer_to_path,
    raise_for_response,
)

URL = "http://api.example.test/api/v1/appointments/"
FHIR = "application/fhir+json"
PROBLEM = "application/problem+json"
JSON = "application/json"

Make = Callable[..., Any]


def _requests_response(
    status: int, body: bytes = b"", headers: dict[str, str] | None = None
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers = CaseInsensitiveDict(headers or {})
    try:
        response.reason = HTTPStatus(status).phrase
    except ValueError:
        response.reason = None
    response.url = URL
    return response


def _httpx_response(
    status: int, body: bytes = b"", headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, headers=headers, content=body, request=httpx.Request("GET", URL))


@pytest.fixture(params=["requests", "httpx"])
def make(request: pytest.FixtureRequest) -> Make:
    """Build a response of either library: ``make(status, body=..., headers=..., json=...)``."""
    build = _requests_response if request.param == "requests" else _httpx_response

    def factory(
        status: int,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        content_type: str | None = None,
    ) -> Any:
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", content_type or JSON)
        elif content_type:
            headers["Content-Type"] = content_type
        return build(status, body or b"", headers)

    return factory


def catch(response: Any) -> APIClientError:
    with pytest.raises(APIClientError) as info:
        raise_for_response(response)
    return info.value


# 422's reason phrase: RFC 4918's, kept by httpx and by http.HTTPStatus up to Python 3.12, and
# RFC 9110's, http.HTTPStatus's from Python 3.13 on (so requests' reason in these tests).
UNPROCESSABLE_PHRASES = {"Unprocessable Entity", "Unprocessable Content"}


def reason_phrase(response: Any) -> str:
    """The reason phrase the response carries: requests' ``reason``, httpx's ``reason_phrase``."""
    phrase = response.reason if isinstance(response, requests.Response) else response.reason_phrase
    assert isinstance(phrase, str)
    return phrase


# --- statuses -----------------------------------------------------------------------------

WWW = {"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'}


@pytest.mark.parametrize(
    ("status", "headers", "cls"),
    [
        (400, {}, BadRequest),
        (401, WWW, InvalidAccessToken),
        (401, {}, Unauthorized),
        (403, {}, Forbidden),
        (404, {}, ResourceDoesNotExist),
        (405, {"Allow": "GET, HEAD"}, MethodNotAllowed),
        (409, {}, Conflict),
        (412, {}, PreconditionFailed),
        (422, {}, UnprocessableEntity),
        (429, {}, RateLimitExceeded),
        (500, {}, ServerError),
        (501, {}, ServerError),
        (502, {}, ServerError),
        (503, {}, ServiceUnavailable),
        (504, {}, ServerError),
        (599, {}, ServerError),
        (402, {}, APIClientError),
        (406, {}, APIClientError),
        (410, {}, APIClientError),
        (413, {}, APIClientError),
        (415, {}, APIClientError),
        (418, {}, APIClientError),
        (428, {}, APIClientError),
        (451, {}, APIClientError),
    ],
)
def test_status_selects_class(make: Make, status: int, headers: dict, cls: type) -> None:
    exc = catch(make(status, headers=headers))
    assert type(exc) is cls
    assert isinstance(exc, ClientError)
    assert exc.status == status


@pytest.mark.parametrize("status", [100, 200, 201, 202, 204, 301, 302, 304, 307, 399])
def test_below_400_returns_the_response(make: Make, status: int) -> None:
    response = make(status, json_body={"error_code": 1})
    assert raise_for_response(response) is response
    assert exception_for_response(response) is None


SERVER_NAMES = [
    "BadRequest",
    "InvalidAccessToken",
    "Unauthorized",
    "Forbidden",
    "ResourceDoesNotExist",
    "MethodNotAllowed",
    "Conflict",
    "PreconditionFailed",
    "UnprocessableEntity",
    "RateLimitExceeded",
    "ServerError",
    "ServiceUnavailable",
]


def test_class_hierarchy_and_alias() -> None:
    assert ClientError is APIClientError
    assert issubclass(ServiceUnavailable, ServerError)  # "retry any 5xx" catches 503 too
    for name in SERVER_NAMES:
        assert issubclass(getattr(client, name), APIClientError)


def test_names_match_the_server_vocabulary() -> None:
    server = Path(__file__).resolve().parent.parent.parent / "apierrors" / "exceptions.py"
    if not server.exists():
        pytest.skip("apierrors/exceptions.py not written yet")
    text = server.read_text()
    for name in SERVER_NAMES:
        assert f"class {name}(" in text


# --- fhir ---------------------------------------------------------------------------------


def test_fhir_not_found(make: Make) -> None:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "not-found",
                "details": {"text": "Unknown Patient resource 'a47c'"},
            }
        ],
    }
    exc = catch(
        make(
            404,
            json_body=body,
            content_type=FHIR,
            headers={"X-Error-Code": "4", "X-Error-Key": "unknown_resource"},
        )
    )
    assert type(exc) is ResourceDoesNotExist
    assert exc.message == "Unknown Patient resource 'a47c'"
    assert (exc.error_code, exc.key, exc.format) == (4, "unknown_resource", "fhir")
    assert exc.details == []
    assert exc.request_id is None
    assert exc.data == body


def test_fhir_field_errors(make: Make) -> None:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "invalid",
                "details": {"text": "Enter a valid email address."},
                "expression": ["items.0.email"],
            },
            {
                "severity": "error",
                "code": "required",
                "details": {"text": "This field is required."},
                "expression": ["start"],
            },
        ],
    }
    exc = catch(make(400, json_body=body, content_type=FHIR))
    assert type(exc) is BadRequest
    assert exc.details == [
        ("items.0.email", "Enter a valid email address."),
        ("start", "This field is required."),
    ]
    assert exc.message == "Enter a valid email address."


def test_fhir_general_issue_is_the_message(make: Make) -> None:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "invalid",
                "details": {"text": "Bad email."},
                "expression": ["email"],
            },
            {"severity": "error", "code": "invalid", "details": {"text": "Invalid request."}},
        ],
    }
    exc = catch(make(400, json_body=body, content_type=FHIR))
    assert exc.message == "Invalid request."
    assert exc.details == [("email", "Bad email.")]


def test_fhir_later_issues_without_expression_are_whole_request_details(make: Make) -> None:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "structure",
                "details": {"text": "The request body could not be parsed."},
            },
            {
                "severity": "error",
                "code": "structure",
                "details": {"text": "JSON parse error - Expecting value"},
            },
            {
                "severity": "error",
                "code": "required",
                "details": {"text": "Required."},
                "expression": ["name"],
            },
        ],
    }
    exc = catch(make(400, json_body=body, content_type=FHIR))
    assert exc.message == "The request body could not be parsed."
    assert exc.details == [("", "JSON parse error - Expecting value"), ("name", "Required.")]


def test_fhir_server_error_request_id_from_diagnostics(make: Make) -> None:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "fatal",
                "code": "exception",
                "details": {"text": "Internal server error"},
                "diagnostics": "request_id=3f2a9c",
            }
        ],
    }
    exc = catch(make(500, json_body=body, content_type=FHIR))
    assert type(exc) is ServerError
    assert (exc.message, exc.request_id) == ("Internal server error", "3f2a9c")
    exc = catch(make(500, json_body=body, content_type=FHIR, headers={"X-Request-ID": "hdr"}))
    assert exc.request_id == "hdr"


def test_fhir_detected_by_shape_under_plain_json(make: Make) -> None:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": "forbidden", "details": {"text": "Authorization failed"}}
        ],
    }
    for content_type in (JSON, "text/plain", None):
        exc = catch(make(403, json.dumps(body).encode(), content_type=content_type))
        assert (exc.format, exc.message) == ("fhir", "Authorization failed")


def test_fhir_odd_issues(make: Make) -> None:
    body = {
        "resourceType": "OperationOutcome",
        "issue": ["junk", {"severity": "error", "code": "processing"}],
    }
    assert catch(make(422, json_body=body, content_type=FHIR)).message == "processing"
    body = {"resourceType": "OperationOutcome", "issue": "not a list"}
    response = make(422, json_body=body, content_type=FHIR)
    assert reason_phrase(response) in UNPROCESSABLE_PHRASES
    assert catch(response).message == reason_phrase(response)


# --- docplanner ---------------------------------------------------------------------------


def test_docplanner(make: Make) -> None:
    headers = {"X-Error-Code": "1", "X-Error-Key": "appointment_unavailable"}
    response = make(422, json_body={"error_code": 1}, headers=headers)
    exc = catch(response)
    assert type(exc) is UnprocessableEntity
    assert (exc.error_code, exc.key, exc.format) == (1, "appointment_unavailable", "docplanner")
    # The body has no text: the message is the response's reason phrase.
    assert reason_phrase(response) in UNPROCESSABLE_PHRASES
    assert exc.message == reason_phrase(response)
    assert exc.details == []


def test_docplanner_without_headers_reads_the_body(make: Make) -> None:
    exc = catch(make(409, json_body={"error_code": 17}))
    assert (type(exc), exc.error_code, exc.key) == (Conflict, 17, None)


# --- shipstream ---------------------------------------------------------------------------

SHIPSTREAM = {
    "errors": [
        {
            "type": "appointment_unavailable",
            "error_code": 1,
            "message": "This appointment time is no longer available.",
            "details": [{"key": "items.0.email", "message": "Enter a valid email address."}],
        }
    ]
}


def test_shipstream(make: Make) -> None:
    exc = catch(make(422, json_body=SHIPSTREAM))
    assert type(exc) is UnprocessableEntity
    assert exc.message == "This appointment time is no longer available."
    assert (exc.error_code, exc.key, exc.format) == (1, "appointment_unavailable", "shipstream")
    assert exc.details == [("items.0.email", "Enter a valid email address.")]


def test_shipstream_without_details_with_request_id(make: Make) -> None:
    body = {
        "errors": [
            {
                "type": "internal_error",
                "error_code": 12,
                "message": "Internal server error",
                "request_id": "r-1",
            }
        ]
    }
    exc = catch(make(500, json_body=body))
    assert (exc.details, exc.request_id, exc.key) == ([], "r-1", "internal_error")


def test_shipstream_openapi_type_is_not_a_key(make: Make) -> None:
    body = {
        "errors": [
            {
                "type": "openapi",
                "error_code": 3,
                "message": "Invalid request",
                "details": [{"key": "body", "message": "'start' is required"}],
            }
        ]
    }
    exc = catch(make(400, json_body=body))
    assert exc.key is None
    assert exc.details == [("body", "'start' is required")]
    exc = catch(make(400, json_body=body, headers={"X-Error-Key": "openapi_validation"}))
    assert exc.key == "openapi_validation"


def test_shipstream_several_errors(make: Make) -> None:
    body = {
        "errors": [
            {
                "type": "a",
                "error_code": 5,
                "message": "First.",
                "details": [{"key": "x", "message": "1"}],
            },
            {
                "type": "b",
                "error_code": 6,
                "message": "Second.",
                "details": [{"key": "y", "message": "2"}],
            },
            "junk",
        ]
    }
    exc = catch(make(422, json_body=body))
    assert (exc.message, exc.error_code, exc.key) == ("First.", 5, "a")
    assert exc.details == [("x", "1"), ("y", "2")]


# --- problem+json -------------------------------------------------------------------------

PROBLEM_BODY = {
    "type": "http://host/errors/appointment_unavailable/",
    "title": "Appointment unavailable",
    "status": 422,
    "detail": "This appointment time is no longer available.",
    "instance": "/api/v1/appointments/",
    "error_code": 1,
    "key": "appointment_unavailable",
    "errors": [
        {"pointer": "#/items/0/email", "detail": "Enter a valid email address.", "code": "invalid"}
    ],
}


def test_problem(make: Make) -> None:
    exc = catch(make(422, json_body=PROBLEM_BODY, content_type=PROBLEM))
    assert type(exc) is UnprocessableEntity
    assert exc.message == "This appointment time is no longer available."
    assert exc.title == "Appointment unavailable"
    assert (exc.error_code, exc.key, exc.format) == (1, "appointment_unavailable", "problem")
    assert exc.details == [("items.0.email", "Enter a valid email address.")]


def test_problem_request_id_and_key_from_type(make: Make) -> None:
    body = {
        "type": "https://api.example.test/errors/internal_error/",
        "title": "Server error",
        "status": 500,
        "detail": "Internal server error",
        "error_code": 12,
        "errors": [],
        "request_id": "abc-123",
    }
    exc = catch(make(500, json_body=body, content_type=PROBLEM))
    assert (exc.key, exc.request_id, exc.details) == ("internal_error", "abc-123", [])
    body = {"type": "about:blank", "title": "Not Found", "status": 404}
    exc = catch(make(404, json_body=body, content_type=PROBLEM))
    assert (exc.key, exc.message, exc.error_code) == (None, "Not Found", None)


def test_problem_detected_by_shape_and_minimal_body(make: Make) -> None:
    assert catch(make(422, json_body=PROBLEM_BODY)).format == "problem"
    exc = catch(make(400, json_body={"detail": "Nope."}, content_type=PROBLEM))
    assert (exc.format, exc.message) == ("problem", "Nope.")


@pytest.mark.parametrize(
    ("pointer", "path"),
    [
        ("#/items/0/email", "items.0.email"),
        ("/items/0/email", "items.0.email"),
        ("#/a~1b/c~0d", "a/b.c~d"),
        ("#/x~01", "x~1"),
        ("#/first%20name", "first name"),
        ("#", ""),
        ("", ""),
    ],
)
def test_pointer_to_path(pointer: str, path: str) -> None:
    assert pointer_to_path(pointer) == path


def test_problem_root_pointer_is_a_whole_body_detail(make: Make) -> None:
    body = {**PROBLEM_BODY, "errors": [{"pointer": "#", "detail": "Dates overlap."}, "junk"]}
    assert catch(make(422, json_body=body, content_type=PROBLEM)).details == [
        ("", "Dates overlap.")
    ]


# --- headers ------------------------------------------------------------------------------


def test_headers_win_over_the_body(make: Make) -> None:
    headers = {"X-Error-Code": "99", "X-Error-Key": "hdr_key", "X-Request-ID": "hdr-id"}
    body = {**PROBLEM_BODY, "request_id": "body-id"}
    exc = catch(make(422, json_body=body, content_type=PROBLEM, headers=headers))
    assert (exc.error_code, exc.key, exc.request_id) == (99, "hdr_key", "hdr-id")


def test_garbled_error_code_header_falls_back_to_the_body(make: Make) -> None:
    exc = catch(make(422, json_body={"error_code": 1}, headers={"x-error-code": "one"}))
    assert exc.error_code == 1
    exc = catch(make(422, json_body={"error_code": "1"}))
    assert exc.error_code == 1
    exc = catch(make(422, json_body={"error_code": True}))
    assert exc.error_code is None


def test_rate_limit_headers(make: Make) -> None:
    headers = {"Retry-After": "30", "X-Rate-Limit-Remaining": "0"}
    exc = catch(make(429, json_body={"error_code": 9}, headers=headers))
    assert type(exc) is RateLimitExceeded
    assert (exc.retry_after, exc.rate_limit_remaining) == (30, 0)
    exc = catch(make(429, headers={"X-Rate-Limit-Remaining": "lots"}))
    assert exc.rate_limit_remaining is None
    assert catch(make(429, headers={"X-RateLimit-Remaining": "7"})).rate_limit_remaining == 7


def _http_date(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120),
        (" 5 ", 5),
        ("0", 0),
        ("1.5", 1.5),
        ("-5", None),
        ("soon", None),
        ("", None),
        ("Mon, 99 Foo 2024 25:61:00 GMT", None),
    ],
)
def test_retry_after_seconds(make: Make, value: str, expected: float | None) -> None:
    exc = catch(make(503, headers={"Retry-After": value}))
    assert exc.retry_after == expected
    assert type(exc.retry_after) is type(expected)


def test_retry_after_http_date_against_date_header(make: Make) -> None:
    sent = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    headers = {"Date": _http_date(sent), "Retry-After": _http_date(sent + timedelta(minutes=2))}
    assert catch(make(503, headers=headers)).retry_after == 120
    headers["Retry-After"] = _http_date(sent - timedelta(minutes=2))
    assert catch(make(503, headers=headers)).retry_after == 0


def test_retry_after_http_date_against_the_clock(make: Make) -> None:
    headers = {"Retry-After": _http_date(datetime.now(UTC) + timedelta(seconds=90))}
    assert 85 <= catch(make(429, headers=headers)).retry_after <= 90
    assert catch(make(429)).retry_after is None


def test_www_authenticate_is_case_insensitive(make: Make) -> None:
    assert type(catch(make(401, headers={"www-authenticate": "Bearer"}))) is InvalidAccessToken


# --- degraded bodies ----------------------------------------------------------------------

NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def test_empty_body_uses_the_reason_phrase(make: Make) -> None:
    exc = catch(make(404))
    assert (type(exc), exc.message, exc.format, exc.body, exc.data) == (
        ResourceDoesNotExist,
        "Not Found",
        None,
        b"",
        None,
    )
    assert catch(make(503, b"  \n", content_type=JSON)).message == "Service Unavailable"


def test_unknown_status_without_reason() -> None:
    for response in (_requests_response(599), _httpx_response(599)):
        exc = catch(response)
        assert type(exc) is ServerError
        assert exc.message  # "HTTP 599" or the library's placeholder, never empty


def test_proxy_html(make: Make) -> None:
    exc = catch(make(502, NGINX_502, content_type="text/html"))
    assert type(exc) is ServerError
    assert exc.message == "502 Bad Gateway nginx/1.25.3"
    assert exc.format == "html"
    # No content type at all: sniffed.
    assert catch(make(502, NGINX_502)).message == "502 Bad Gateway nginx/1.25.3"


def test_html_scripts_entities_and_truncation(make: Make) -> None:
    page = (
        "<!DOCTYPE html><html><head><style>h1{color:red}</style><title>T</title></head>"
        "<body><script>var x = '<b>no</b>';</script><h1>Fish &amp; chips</h1>"
        "<!-- a comment --><p>" + "word " * 100 + "</p></body></html>"
    ).encode()
    message = catch(make(500, page, content_type="text/html; charset=utf-8")).message
    assert message.startswith("Fish & chips word word")
    assert "color" not in message and "var x" not in message and "comment" not in message
    assert len(message) <= 200
    only_title = b"<html><head><title>Server Error (500)</title></head><body></body></html>"
    assert catch(make(500, only_title, content_type="text/html")).message == "Server Error (500)"


def test_plain_text(make: Make) -> None:
    exc = catch(make(503, b"upstream connect error\nor disconnect", content_type="text/plain"))
    assert (exc.message, exc.format) == ("upstream connect error or disconnect", "text")
    long = catch(make(500, b"x" * 1000, content_type="text/plain")).message
    assert len(long) == 200 and long.endswith("…")


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b'{"errors": [', JSON, '{"errors": ['),
        (b"not json at all", JSON, "not json at all"),
        (b'["First problem.", "Second problem.", 3]', JSON, "First problem.; Second problem."),
        (b"[]", JSON, "Bad Request"),
        (b"[{}]", JSON, "Bad Request"),
        (b'"Just a string"', JSON, "Just a string"),
        (b"null", JSON, "Bad Request"),
        (b"42", JSON, "Bad Request"),
        (b"{}", JSON, "Bad Request"),
        (b'{"detail": "Not found."}', JSON, "Not found."),
        (b'{"error": {"message": "nested"}}', JSON, "nested"),
        (b'{"resourceType": "Patient"}', FHIR, "Bad Request"),
        (b"[1, 2]", FHIR, "Bad Request"),
        (b'"text"', PROBLEM, "text"),
        (b'{"errors": "no"}', JSON, "Bad Request"),
        (b'{"errors": ["a", "b"]}', JSON, "a; b"),
        (b"\xff\xfe\xfa not utf-8 {", JSON, "\ufffd\ufffd\ufffd not utf-8 {"),
        (b'{"detail": "caf\xe9"}', JSON, '{"detail": "caf\ufffd"}'),
        (b'{"detail": "caf\xe9"}', "application/json; charset=latin-1", "café"),
        (b'{"detail": "x"}', "application/json; charset=rot13", "x"),
        (b'{"detail": "x"}', "application/json; charset=nope", "x"),
        (b"caf\xe9", "text/plain; charset=latin-1", "café"),
        (b"caf\xe9", "text/plain; charset=no-such-codec", "caf\ufffd"),
        (b"caf\xe9", "text/plain; charset=rot13", "caf\ufffd"),
        (b"\x00\x01binary", "application/octet-stream", "\x00\x01binary"),
        (b"[" * 100_000, JSON, "[" * 199 + "…"),
    ],
)
def test_bad_bodies_never_leak_decoding_errors(
    make: Make, body: bytes, content_type: str, message: str
) -> None:
    exc = catch(make(400, body, content_type=content_type))
    assert type(exc) is BadRequest
    assert exc.message == message
    assert exc.body == body


def test_drf_default_field_errors(make: Make) -> None:
    body = {
        "email": ["Enter a valid email address."],
        "items": [{}, {"qty": ["Too many.", "Odd."]}],
        "non_field_errors": ["Dates overlap."],
    }
    exc = catch(make(400, json_body=body))
    assert exc.message == "Bad Request"
    assert exc.details == [
        ("email", "Enter a valid email address."),
        ("items.1.qty", "Too many."),
        ("items.1.qty", "Odd."),
        ("non_field_errors", "Dates overlap."),
    ]


def test_deeply_nested_json_does_not_recurse_forever(make: Make) -> None:
    body = b'{"a":' * 50 + b"1" + b"}" * 50
    assert catch(make(400, body, content_type=JSON)).message == "Bad Request"


# --- the exception object -----------------------------------------------------------------


def test_str_is_a_useful_one_liner(make: Make) -> None:
    headers = {"X-Error-Code": "1", "X-Error-Key": "appointment_unavailable"}
    exc = catch(make(422, json_body=SHIPSTREAM, headers=headers))
    assert str(exc) == (
        "422 appointment_unavailable (error_code 1): This appointment time is no longer "
        "available. [items.0.email: Enter a valid email address.]"
    )
    assert "UnprocessableEntity(status=422" in repr(exc)
    many = {
        "errors": [
            {
                "message": "Invalid.",
                "details": [{"key": f"f{i}", "message": "Bad.\nReally."} for i in range(10)],
            }
        ]
    }
    text = str(catch(make(400, json_body=many, headers={"Retry-After": "3"})))
    assert "\n" not in text.replace("Bad.\nReally.", "")
    assert text.count("Bad.") == 3 and "+7 more" in text and "(retry after 3s)" in text
    assert str(catch(make(502))) == "502: Bad Gateway"
    rid = catch(make(500, headers={"X-Request-ID": "r9"}))
    assert str(rid) == "500: Internal Server Error (request_id=r9)"


def test_body_and_response_are_kept(make: Make) -> None:
    response = make(409, json_body={"error_code": 2})
    exc = catch(response)
    assert exc.response is response
    assert exc.body == b'{"error_code": 2}'
    assert exc.args == (exc.message,)


def test_exceptions_pickle_without_the_response(make: Make) -> None:
    exc = catch(
        make(
            422,
            json_body=PROBLEM_BODY,
            content_type=PROBLEM,
            headers={"Retry-After": "4", "X-Request-ID": "q"},
        )
    )
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is UnprocessableEntity
    assert (
        copy.message,
        copy.error_code,
        copy.key,
        copy.details,
        copy.retry_after,
        copy.request_id,
        copy.body,
    ) == (exc.message, 1, "appointment_unavailable", exc.details, 4, "q", exc.body)
    assert copy.response is None and str(copy) == str(exc)


def test_constructible_by_hand() -> None:
    exc = ResourceDoesNotExist("Unknown Patient resource 'x'", status=404, error_code=4)
    assert (exc.key, exc.details, exc.body, exc.retry_after) == (None, [], b"", None)
    assert str(exc) == "404 (error_code 4): Unknown Patient resource 'x'"


def test_duck_typed_response_with_plain_dict_headers() -> None:
    response = SimpleNamespace(
        status_code=404,
        headers={"content-type": FHIR, "x-error-code": "4", "x-request-id": "r"},
        content=json.dumps(
            {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "not-found", "details": {"text": "Gone"}}],
            }
        ).encode(),
    )
    exc = catch(response)
    assert (exc.message, exc.error_code, exc.request_id) == ("Gone", 4, "r")
    bare = SimpleNamespace(status_code="500", headers=None, content=None)
    assert catch(bare).message == "Internal Server Error"


def test_unread_httpx_stream_is_read() -> None:
    response = httpx.Response(
        404, headers={"Content-Type": JSON}, stream=httpx.ByteStream(b'{"error_code": 4}')
    )
    assert catch(response).error_code == 4


# --- hooks --------------------------------------------------------------------------------


def test_requests_hook_direct() -> None:
    ok = _requests_response(200, b"{}")
    assert client.requests_hook(ok) is ok
    with pytest.raises(Forbidden):
        client.requests_hook(_requests_response(403), timeout=1, verify=True)


def test_httpx_event_hook_reads_the_stream() -> None:
    response = httpx.Response(
        422,
        headers={"Content-Type": PROBLEM},
        stream=httpx.ByteStream(json.dumps(PROBLEM_BODY).encode()),
        request=httpx.Request("POST", URL),
    )
    with pytest.raises(UnprocessableEntity) as info:
        client.httpx_event_hook(response)
    assert info.value.error_code == 1
    assert client.httpx_event_hook(httpx.Response(204)) is None


ROUTES: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/ok": (200, {"Content-Type": JSON}, b'{"id": 1}'),
    "/redirect": (302, {"Location": "/ok"}, b""),
    "/missing": (
        404,
        {"Content-Type": FHIR, "X-Error-Code": "4", "X-Error-Key": "unknown"},
        json.dumps(
            {
                "resourceType": "OperationOutcome",
                "issue": [
                    {
                        "severity": "error",
                        "code": "not-found",
                        "details": {"text": "Unknown Patient resource 'a47c'"},
                    }
                ],
            }
        ).encode(),
    ),
    "/throttled": (
        429,
        {"Content-Type": JSON, "Retry-After": "7", "X-Rate-Limit-Remaining": "0"},
        b'{"error_code": 9}',
    ),
    "/gateway": (502, {"Content-Type": "text/html"}, NGINX_502),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, headers, body = ROUTES[self.path]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # keep the test output quiet
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _check_session_raises(get: Callable[[str], Any]) -> None:
    assert get("/ok").json() == {"id": 1}
    assert get("/redirect").json() == {"id": 1}  # 3xx passes through the hook
    with pytest.raises(ResourceDoesNotExist) as info:
        get("/missing")
    assert (info.value.message, info.value.error_code) == ("Unknown Patient resource 'a47c'", 4)
    with pytest.raises(RateLimitExceeded) as info:
        get("/throttled")
    assert (info.value.retry_after, info.value.rate_limit_remaining) == (7, 0)
    with pytest.raises(ServerError) as info:
        get("/gateway")
    assert info.value.message == "502 Bad Gateway nginx/1.25.3"


def test_requests_session_hook(server: str) -> None:
    with requests.Session() as session:
        session.hooks["response"].append(client.requests_hook)
        _check_session_raises(lambda path: session.get(server + path, timeout=5))


def test_requests_streamed_response(server: str) -> None:
    with requests.Session() as session, pytest.raises(ResourceDoesNotExist) as info:
        session.get(
            server + "/missing", stream=True, timeout=5, hooks={"response": client.requests_hook}
        )
    assert info.value.error_code == 4


def test_httpx_client_event_hook(server: str) -> None:
    hooks = {"response": [client.httpx_event_hook]}
    with httpx.Client(base_url=server, event_hooks=hooks, follow_redirects=True) as http:
        _check_session_raises(http.get)


def test_install_on_each_client(server: str) -> None:
    with requests.Session() as session:
        assert client.install(client.install(session)) is session
        assert session.hooks["response"] == [client.requests_hook]
        _check_session_raises(lambda path: session.get(server + path, timeout=5))
    with httpx.Client(base_url=server, follow_redirects=True) as http:
        client.install(http)
        client.install(http)
        assert http.event_hooks["response"] == [client.httpx_event_hook]
        _check_session_raises(http.get)

    async def run() -> None:
        async with httpx.AsyncClient(base_url=server) as http:
            client.install(http)
            assert http.event_hooks["response"] == [client.async_httpx_event_hook]
            assert (await http.get("/ok")).json() == {"id": 1}
            with pytest.raises(ResourceDoesNotExist) as info:
                await http.get("/missing")
            assert info.value.message == "Unknown Patient resource 'a47c'"

    asyncio.run(run())


def test_install_rejects_other_objects() -> None:
    with pytest.raises(TypeError):
        client.install(object())


# --- import isolation ---------------------------------------------------------------------

_ISOLATED_IMPORT = """
import sys

BLOCKED = ("django", "rest_framework", "requests", "httpx")

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} must not be imported by apierrors.client")
        return None

sys.meta_path.insert(0, Block())
import apierrors.client
from apierrors.client import raise_for_response, ResourceDoesNotExist

others = sorted(m for m in sys.modules
                if m.startswith("apierrors") and not m.startswith("apierrors.client")
                and m != "apierrors")
assert not others, others

class Response:
    status_code = 404
    headers = {"X-Error-Code": "4"}
    content = b""

try:
    raise_for_response(Response())
except ResourceDoesNotExist as exc:
    print("ok", exc.error_code)
"""


def test_imports_without_django_or_http_libraries() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    root = str(Path(__file__).resolve().parent.parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    result = subprocess.run(
        [sys.executable, "-c", _ISOLATED_IMPORT],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok 4"
