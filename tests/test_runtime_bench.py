"""``manage.py bench_errors`` runs in bounded time and prints every case with its ratios."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from apierrors.management.commands import bench_errors

pytestmark = pytest.mark.django_db(databases="__all__")

CASES = ["NotFound", "ValidationError, 5 fields", "list serializer error, 20 items",
         "list serializer error, 1,000 items", "request: 404 (test client)",
         "request: 422 (test client)"]


def run_bench() -> str:
    out = StringIO()
    call_command("bench_errors", seconds=0.05, stdout=out)
    return out.getvalue()


def test_bench_prints_each_case_with_times_and_ratios():
    output = run_bench()
    for case in CASES:
        line = next(line for line in output.splitlines() if line.startswith(case))
        numbers = [float(n) for n in re.findall(r"\d+\.\d+", line[len(case):])]
        ours, drf, ratio = numbers[:3]
        assert ours > 0 and drf > 0
        assert ratio == pytest.approx(ours / drf, rel=0.02, abs=0.01)  # printed rounded


def test_bench_says_when_drf_standardized_errors_is_absent(monkeypatch):
    monkeypatch.setattr(bench_errors, "std_exception_handler", None)
    monkeypatch.setattr(bench_errors, "HANDLERS", {
        k: v for k, v in bench_errors.HANDLERS.items() if k != "std"})
    output = run_bench()
    assert "drf-standardized-errors not installed" in output
    assert output.count("not installed") == 1 + len(CASES)
