"""The demo project's benchmarks run in bounded time and print every case with its ratios:
``manage.py bench_errors`` (both stamp caches) and ``manage.py bench_load`` (gunicorn, wrk)."""

import os
import re
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from testproject.clinic.management.commands import bench_errors

from ..conftest import IN_CI

pytestmark = pytest.mark.django_db(databases="__all__")

ROOT = Path(__file__).resolve().parent.parent.parent
CASES = [
    f"{kind}: {case}"
    for kind in ("view", "handler")
    for case in (
        "NotFound",
        "ValidationError, 5 fields",
        "list error, 20 items",
        "list error, 1,000 items",
    )
] + ["request: 404 (test client)", "request: 422 (test client)"]


def run_bench(**options) -> str:
    out = StringIO()
    call_command("bench_errors", seconds=0.05, stdout=out, **options)
    return out.getvalue()


def tables(output: str) -> dict[str, str]:
    """Set-up name (redis, locmem, ...) → its table."""
    parts = re.split(r"^== stamp in \w+ \(([\w-]+), .*$", output, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def assert_rows(table: str, cases: list[str]) -> None:
    for case in cases:
        line = next(line for line in table.splitlines() if line.startswith(case))
        numbers = [float(n) for n in re.findall(r"\d+\.\d+", line[len(case) :])]
        ours, drf, ratio = numbers[:3]
        assert ours > 0 and drf > 0
        # The median of per-round ratios: a ratio, on the same side of the medians' ratio's
        # scale (on a loaded machine the two differ by more than any fixed tolerance).
        assert 0 < ratio < 1000 and 0.2 < ratio / (ours / drf) < 5
        if case.startswith("view: "):  # the goal column: met, or OVER
            assert re.search(r"(≤1\.\d\d|OVER)", line), line


def test_bench_prints_each_case_for_each_stamp_cache():
    output = run_bench(setups="locmem,redis-down")
    by_setup = tables(output)
    assert list(by_setup) == ["locmem", "redis-down"]
    for table in by_setup.values():
        assert_rows(table, CASES)
    assert "STAMP_CHECK_SECONDS=0.5" in output


@pytest.mark.redis
def test_bench_measures_the_stamp_in_redis_first():
    output = run_bench(
        redis_url=os.environ.get("APIERRORS_REDIS_URL", "redis://127.0.0.1:6379/0"),
        no_requests=True,
        error_format="problem",
        check_seconds=0,
    )
    by_setup = tables(output)
    assert list(by_setup) == ["redis", "locmem"]  # the README's set-up first
    assert "apierrors format 'problem'" in output
    assert "STAMP_CHECK_SECONDS=0 " in output
    assert_rows(by_setup["redis"], CASES[:8])


def test_bench_says_when_drf_standardized_errors_is_absent(monkeypatch):
    monkeypatch.setattr(bench_errors, "std_exception_handler", None)
    monkeypatch.setattr(
        bench_errors, "HANDLERS", {k: v for k, v in bench_errors.HANDLERS.items() if k != "std"}
    )
    output = run_bench(setups="locmem")
    assert "drf-standardized-errors not installed" in output
    assert output.count("not installed") == 1 + len(CASES)


def test_the_app_carries_no_benchmark():
    commands = ROOT / "apierrors" / "management" / "commands"
    assert sorted(p.stem for p in commands.glob("bench*.py")) == []


@pytest.mark.postgres
@pytest.mark.redis
def test_load_benchmark_runs_every_case_and_handler():
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql" or (
        not settings.CACHES["default"]["BACKEND"].endswith(".RedisCache")
    ):
        pytest.skip(
            "runs in the PostgreSQL + Redis suite (APIERRORS_DB=postgres "
            "APIERRORS_CACHE=redis), the set-up it measures"
        )
    if shutil.which("wrk") is None:
        if IN_CI:
            pytest.fail("wrk is not installed (CI must have it)")
        pytest.skip("wrk is not installed (apt-get install wrk)")
    done = subprocess.run(
        [sys.executable, "manage.py", "bench_load", "--seconds", "1", "--rounds", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    handlers = ["apierrors", "DRF stock"]
    for case in ("404 not found", "400 field errors", "422 business rule", "200 ok"):
        for handler in handlers:
            line = next(li for li in lines if li.startswith(case) and handler in li)
            rps, p50, p90, p99, rps_ratio, p50_ratio = (
                float(n) for n in re.findall(r"\d+(?:\.\d+)?", line[len(case) :])[:6]
            )
            assert rps > 0 and 0 < p50 <= p90 <= p99
            if handler == "DRF stock":
                assert (rps_ratio, p50_ratio) == (1.0, 1.0)
