"""Property: after any sequence of requests, the database holds exactly the successes' effects.

Each request does random writes on both aliases (through the ORM, the view's own atomic
blocks or a raw cursor, any of which may be the alias's first use) and the session, registers
on_commit callbacks (some before any query), then ends in a random
way (returned success or error, raised error, rendering failure, a swallowed database
error). A model applies the writes of the requests that answered with a success; the
stored groups, the session and the on_commit calls must equal the model.
"""

import json

import pytest
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.transactions.atomic_app import views

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.urls("tests.transactions.atomic_app.urls"),
]

ALIASES = ("default", "other")
NAMES = ("a", "b", "c")  # few names, so creates often collide (IntegrityError)

# An insert made four ways: each may be the alias's first use, where the transaction begins.
CREATES = ("create", "create_atomic", "create_nosp", "create_raw")
op = st.one_of(
    st.tuples(st.sampled_from(CREATES), st.sampled_from(ALIASES), st.sampled_from(NAMES)),
    st.tuples(st.just("lock"), st.sampled_from(ALIASES), st.sampled_from(NAMES)),
    st.tuples(st.just("delete"), st.sampled_from(ALIASES), st.sampled_from(NAMES)),
)
PATHS = {"api": "/api/", "plain": "/plain/", "async": "/plain/async/"}
OUTCOMES = {
    "api": ["ok", "fail", "raise", "raise_client", "render_fail", "swallow"],
    "plain": ["ok", "redirect", "fail", "raise", "raise_client", "render_fail", "swallow"],
    "async": ["ok", "redirect", "fail", "raise", "swallow"],
}


@st.composite
def request_spec(draw: st.DrawFn) -> tuple[str, dict]:
    kind = draw(st.sampled_from(sorted(PATHS)))
    outcome = draw(st.sampled_from(OUTCOMES[kind]))
    spec: dict = {
        "ops": [list(o) for o in draw(st.lists(op, max_size=4))],
        "on_commit": draw(st.lists(st.sampled_from(ALIASES), max_size=2, unique=True)),
        "on_commit_early": draw(st.lists(st.sampled_from(ALIASES), max_size=2, unique=True)),
    }
    if draw(st.booleans()):
        spec["session"] = draw(st.integers(0, 9))
    if outcome == "swallow":
        spec["swallow"] = draw(st.sampled_from(ALIASES))
        outcome = "ok"
    spec["outcome"] = outcome
    return kind, spec


def expected_success(kind: str, spec: dict, state: dict[str, set[str]]) -> bool:
    """Whether the request should succeed, given the stored state before it."""
    if spec.get("swallow") or spec["outcome"] not in ("ok", "redirect"):
        return False
    seen = {alias: set(state[alias]) for alias in ALIASES}
    for name_op, alias, name in spec["ops"]:
        if name_op in CREATES:
            if name in seen[alias]:
                return False  # IntegrityError, not caught by the view
            seen[alias].add(name)
        elif name_op == "delete":
            seen[alias].discard(name)
    return True


def apply(spec: dict, state: dict[str, set[str]]) -> None:
    for name_op, alias, name in spec["ops"]:
        if name_op in CREATES:
            state[alias].add(name)
        elif name_op == "delete":
            state[alias].discard(name)


def stored(alias: str) -> set[str]:
    return set(Group.objects.using(alias).values_list("name", flat=True))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(requests=st.lists(request_spec(), min_size=1, max_size=6))
def test_database_equals_the_effects_of_successful_requests(requests):
    for alias in ALIASES:
        Group.objects.using(alias).all().delete()
    Session.objects.all().delete()
    views.CALLS.clear()

    client = Client(raise_request_exception=False)
    state: dict[str, set[str]] = {alias: set() for alias in ALIASES}
    session_value = None
    expected_calls = []

    for number, (kind, spec) in enumerate(requests):
        spec["tag"] = str(number)
        succeeds = expected_success(kind, spec, state)

        response = client.post(PATHS[kind], data=json.dumps(spec), content_type="application/json")

        ok = 200 <= response.status_code < 300 if kind == "api" else response.status_code < 400
        assert ok is succeeds, (kind, spec, response.status_code)
        if ok:
            apply(spec, state)
            session_value = spec.get("session", session_value)
            expected_calls += [(alias, str(number)) for alias in spec["on_commit"]]
            expected_calls += [(alias, f"early-{number}") for alias in spec["on_commit_early"]]

    assert stored("default") == state["default"]
    assert stored("other") == state["other"]
    sessions = [s.get_decoded() for s in Session.objects.all()]
    assert sessions == ([] if session_value is None else [{"value": session_value}])
    assert sorted(views.CALLS) == sorted(expected_calls)
    views.CALLS.clear()
