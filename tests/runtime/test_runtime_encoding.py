"""The built-in formats write their JSON directly (fast at 1,000 field errors): the bytes must
be exactly those of the body their ``render()`` returns, for any text."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIRequestFactory

from apierrors.dictionary.catalog import Entry
from apierrors.formats import BUILTIN_FORMATS
from apierrors.formats.base import encode_json
from apierrors.formats.fhir import FhirFormat
from apierrors.handling.handler import ErrorResponse, get_handler
from apierrors.handling.normalized import Detail, NormalizedError

# Any text: quotes, backslashes, control characters, U+2028, astral planes.
texts = st.text(max_size=10)
codes = st.one_of(
    st.none(),
    st.sampled_from(["required", "max_length", "unique", "invalid"]),
    texts,
    st.integers(),
)
details = st.lists(st.builds(Detail, st.one_of(st.just(""), texts), texts, codes), max_size=5)
entries = st.builds(
    Entry,
    key=st.sampled_from(["not_found", "invalid_request", "custom_key"]),
    error_code=st.integers(1, 99999),
    status=st.sampled_from([400, 404, 422, 500, 503]),
    title=texts,
    message=texts,
    fhir_code=st.sampled_from(["invalid", "not-found", "value"]),
    severity=st.sampled_from(["error", "fatal", "warning"]),
)
errors = st.builds(
    NormalizedError,
    entry=entries,
    message=texts,
    details=details,
    request_id=st.one_of(st.none(), st.text("abc123-", min_size=1, max_size=8)),
    instance=st.one_of(st.none(), st.just("/api/v1/patients/x/")),
)


@pytest.mark.parametrize("name", sorted(BUILTIN_FORMATS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(error=errors, with_request=st.booleans())
def test_written_json_is_the_rendered_body(name, error, with_request):
    request = APIRequestFactory().get("/api/v1/x/") if with_request else None
    error_format = BUILTIN_FORMATS[name]()
    written = error_format.render_json(error, request)
    assert written == encode_json(error_format.render(error, request))
    assert json.loads(written) == error_format.render(error, request)


# Long lists whose items fail alike take a shortcut (every path encoded at once). Paths that
# would make it ambiguous (a backslash, even one spelling "\u001f"; the separator \x1f; "/",
# "~" for a pointer; an empty path) must come out exactly as the loop writes them.
plain_paths = st.one_of(
    st.from_regex(r"items\.[0-9]{1,4}\.(sku|quantity)", fullmatch=True),
    st.text(
        alphabet=st.sampled_from(["a", ".", "é", "0", '"', "\n", "\u2028"]), min_size=1, max_size=6
    ),
)
tricky_paths = st.sampled_from(
    ["", "\\u001f", "a\\u001fb", "\\", "a\x1fb", "\x1f", "a/b", "a~b", "~0", "a.b/c"]
)


@st.composite
def long_lists(draw):
    size = draw(st.integers(16, 40))
    paths = draw(st.lists(plain_paths, min_size=size, max_size=size))
    if draw(st.booleans()):  # one path that the shortcut must not get wrong
        paths[draw(st.integers(0, size - 1))] = draw(tricky_paths)
    message, code = draw(texts), draw(codes)
    alike = [Detail(path, message, code) for path in paths]
    if draw(st.integers(0, 3)) == 0:  # one item that fails otherwise
        at = draw(st.integers(0, size - 1))
        alike[at] = Detail(paths[at], draw(texts), draw(codes))
    return alike


@pytest.mark.parametrize("name", sorted(BUILTIN_FORMATS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(details=long_lists())
def test_written_json_of_a_long_list_is_the_rendered_body(name, details):
    entry = Entry("invalid_request", 2, 400, "Invalid", "Invalid request.", "invalid")
    error = NormalizedError(entry=entry, message="Invalid request.", details=details)
    error_format = BUILTIN_FORMATS[name]()
    written = error_format.render_json(error, None)
    assert written == encode_json(error_format.render(error, None))


def test_a_subclass_that_changes_the_body_is_encoded_from_its_render(settings):
    class TaggedFhir(FhirFormat):
        def render(self, error, request):
            return {**super().render(error, request), "meta": {"tag": "ours"}}

    entry = Entry("not_found", 9, 404, "Not found", "Gone.", "not-found")
    error = NormalizedError(entry=entry, message="Gone.", details=[Detail("a", "b")])
    assert json.loads(TaggedFhir().render_json(error, None))["meta"] == {"tag": "ours"}


@pytest.mark.django_db
def test_error_response_data_is_its_body(rf):
    handler = get_handler()
    error = handler.normalize(ValueError("boom"), rf.get("/api/v1/x/"), None)
    response = handler.respond(error, BUILTIN_FORMATS["problem"](), rf.get("/api/v1/x/"))
    assert response["Content-Type"] == "application/problem+json"
    assert response.data == json.loads(response.content)
    assert response.data["status"] == 500


def test_error_response_has_its_body_headers_and_status():
    # That it has every attribute DRF's Response has: tests/test_framework_internals.py.
    ours = ErrorResponse({"a": 1}, 404, "application/json", {"X-Error-Key": "k"})
    assert ours.data == {"a": 1} and ours.content == b'{"a":1}'
    assert ours["X-Error-Key"] == "k" and ours.status_code == 404
