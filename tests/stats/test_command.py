"""``manage.py error_stats``: the errors returned lately, most frequent first, as a table or
JSON, including this process's counts not flushed yet."""

import datetime
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from apierrors.stats.counter import counter
from apierrors.stats.store import now_hour

from .conftest import write_cells

pytestmark = pytest.mark.urls("tests.stats.urls")


def run(*args: str) -> str:
    out = StringIO()
    call_command("error_stats", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def responses(stats_store):
    client = Client()
    for _ in range(3):
        assert client.get("/api/no-such-thing/").status_code == 404
    assert client.get("/api/stats-test/write-then-fail/x/").status_code == 422
    # Flushed by another process 30 hours ago.
    write_cells({("conflict", now_hour() - 30, 409, "fhir", "en"): 5})
    assert counter.pending() == 4  # not flushed: the command flushes them first


def test_json_lists_the_last_24_hours_most_frequent_first(responses):
    data = json.loads(run("--json"))

    assert data["errors"] == [
        {"key": "not_found", "error_code": 9, "status": 404, "count": 3},
        {"key": "appointment_unavailable", "error_code": 1, "status": 422, "count": 1},
    ]
    since = datetime.datetime.fromisoformat(data["since"])
    assert since.tzinfo is not None
    ago = datetime.datetime.now(datetime.UTC) - since
    assert datetime.timedelta(hours=24) <= ago <= datetime.timedelta(hours=25)
    assert counter.pending() == 0


def test_hours_reach_further_back(responses):
    data = json.loads(run("--json", "--hours", "48"))
    assert data["errors"][0] == {"key": "conflict", "error_code": 13, "status": 409, "count": 5}
    assert sum(e["count"] for e in data["errors"]) == 9


def test_the_table(responses):
    lines = run().splitlines()
    assert lines[0].startswith("Error responses since ")
    assert lines[1].split() == ["count", "key", "error_code", "status"]
    assert lines[2].split() == ["3", "not_found", "9", "404"]
    assert lines[3].split() == ["1", "appointment_unavailable", "1", "422"]
    assert lines[4].split() == ["4", "total"]


def test_nothing_returned(stats_store):
    assert run().splitlines()[-1] == "none"
    assert json.loads(run("--json"))["errors"] == []


@pytest.mark.parametrize("hours", ["0", "-3", str(91 * 24)])
def test_hours_out_of_range_are_refused(stats_store, hours):
    with pytest.raises(CommandError, match="--hours"):
        run("--hours", hours)
