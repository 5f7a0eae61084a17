"""``manage.py bench_load``: the demo under gunicorn, driven by wrk, one handler against another.

Run with the settings the README prescribes for several processes::

    APIERRORS_DB=postgres APIERRORS_CACHE=redis python manage.py bench_load

It creates throwaway databases on the configured PostgreSQL server (as the test runner does,
``test_…_load`` names), starts gunicorn (``--workers``, sync workers, 127.0.0.1 only) on
``testproject.bench.settings``, and sends wrk at a 404, a 400 with field errors, a 422 and a
200 (``testproject/bench/urls.py``), each with apierrors' exception handler, DRF's stock one
and drf-standardized-errors' when it is importable, in interleaved rounds of ``--seconds``
each. It prints requests per second, latency percentiles and the ratios to DRF's handler,
then stops gunicorn and drops the databases. Bounded: every wrk run has its duration and a
timeout, gunicorn is killed if it does not stop.
"""

import os
import re
import shutil
import statistics
import subprocess
import tempfile
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.test.utils import setup_databases, teardown_databases

from testproject.bench.urls import HANDLERS
from testproject.clinic.demo_data import DEMO_PATIENT_ID, load_demo_data
from testproject.gunicorn_server import GunicornServer

MISSING_ID = "a47c7b0e-bbb4-42cd-bc4a-df259d148ea1"
INVALID_PERSON = '{"name": "much too long", "email": "nope", "age": -1, "country": "XX"}'
# case → (status, method, path under /bench/<handler>/)
CASES: dict[str, tuple[int, str, str]] = {
    "404 not found": (404, "GET", f"patients/{MISSING_ID}/"),
    "400 field errors": (400, "POST", "patients/"),
    "422 business rule": (422, "GET", "business/"),
    "200 ok": (200, "GET", f"patients/{DEMO_PATIENT_ID}/"),
}
WRK_POST = f"""wrk.method = "POST"
wrk.body = '{INVALID_PERSON}'
wrk.headers["Content-Type"] = "application/json"
"""
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def parse_wrk(output: str) -> dict[str, float]:
    """Requests/sec and latency percentiles (ms) from ``wrk --latency``'s report."""
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for percent in ("50", "90", "99"):
        match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        result[f"p{percent}"] = float(match.group(1)) * _UNITS[match.group(2)]
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    result["socket_errors"] = sum(int(n) for n in errors.groups()) if errors else 0
    return result


class Command(BaseCommand):
    help = (
        "The demo under gunicorn on PostgreSQL + Redis, driven by wrk: requests per second "
        "and latency for a 404, a 400, a 422 and a 200, with apierrors' exception handler, "
        "DRF's stock one and drf-standardized-errors' (if installed)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seconds",
            type=float,
            default=3.0,
            help="wrk duration per case, handler and round (default 3)",
        )
        parser.add_argument("--rounds", type=int, default=2, help="rounds (default 2)")
        parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (3)")
        parser.add_argument(
            "--connections",
            dest="wrk_connections",
            type=int,
            default=8,
            help="wrk connections (default 8, on 2 wrk threads)",
        )

    def handle(
        self,
        *args: Any,
        seconds: float,
        rounds: int,
        workers: int,
        wrk_connections: int,
        **options: Any,
    ) -> None:
        self.check_set_up()
        seconds = min(max(seconds, 1.0), 30.0)
        rounds = min(max(rounds, 1), 10)
        for alias in ("default", "other"):
            # "…_load": never the test runner's database, even when run from a test.
            test = connections[alias].settings_dict.setdefault("TEST", {})
            test["NAME"] = (
                test.get("NAME") or "test_" + connections[alias].settings_dict["NAME"]
            ) + "_load"
        created = setup_databases(
            verbosity=0, interactive=False, aliases={"default", "other"}, serialized_aliases=set()
        )
        try:
            load_demo_data()
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "testproject.bench.settings",
                "APIERRORS_BENCH_DEFAULT_DB": database_name("default"),
                "APIERRORS_BENCH_OTHER_DB": database_name("other"),
            }
            server = GunicornServer(workers, env, extra_args=["--backlog", "256"])
            try:
                try:
                    server.wait_until_up()
                except RuntimeError as exc:
                    raise CommandError(str(exc)) from exc
                try:
                    self.check_answers(server.base)
                except (OSError, CommandError) as exc:
                    raise CommandError(
                        f"{exc}\ngunicorn's log:\n" + "".join(server.log[-30:])
                    ) from exc
                results = self.run_wrk(server.base, seconds, rounds, wrk_connections)
            finally:
                server.stop()
        finally:
            close_connections()
            teardown_databases(created, verbosity=0)
        self.report(results, seconds, rounds, workers, wrk_connections)

    # -- set-up ----------------------------------------------------------------------------

    def check_set_up(self) -> None:
        if shutil.which("wrk") is None:
            raise CommandError("wrk is not installed (Debian: apt-get install wrk).")
        vendor = connections["default"].vendor
        backend = settings.CACHES.get("default", {}).get("BACKEND", "")
        if vendor != "postgresql" or not backend.endswith(".RedisCache"):
            raise CommandError(
                "bench_load measures the set-up the README prescribes for several processes: "
                "run it as `APIERRORS_DB=postgres APIERRORS_CACHE=redis python manage.py "
                f"bench_load` (now: database {vendor}, cache {backend.rsplit('.', 1)[-1]})."
            )
        for alias in ("default", "other"):
            host = connections[alias].settings_dict.get("HOST") or "127.0.0.1"
            if host not in ("127.0.0.1", "localhost", "::1"):
                raise CommandError(
                    f"DATABASES[{alias!r}] is on {host}: bench_load runs against 127.0.0.1 only."
                )

    def check_answers(self, base: str) -> None:
        """One request per case and handler, before measuring: the status must be right."""
        for name in HANDLERS:
            for case, (status, method, path) in CASES.items():
                data = INVALID_PERSON.encode() if method == "POST" else None
                request = urllib.request.Request(
                    f"{base}/bench/{name}/{path}",
                    data=data,
                    method=method,
                    headers={"Content-Type": "application/json"},
                )
                try:  # a worker's first request imports the app: allow for a slow start
                    with urllib.request.urlopen(request, timeout=60) as response:
                        got = response.status
                except urllib.error.HTTPError as error:
                    got = error.code
                if got != status:
                    raise CommandError(
                        f"{method} /bench/{name}/{path} answered {got}, not {status} ({case})"
                    )

    # -- measuring -------------------------------------------------------------------------

    def run_wrk(
        self, base: str, seconds: float, rounds: int, connections: int
    ) -> dict[tuple[str, str], list[dict[str, float]]]:
        results: dict[tuple[str, str], list[dict[str, float]]] = {
            (case, name): [] for case in CASES for name in HANDLERS
        }
        order = list(HANDLERS)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(WRK_POST)

        def wrk(name: str, method: str, path: str, duration: float) -> dict[str, float]:
            command = [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{duration:g}s",
                "--latency",
                "--timeout",
                "5s",
            ]
            if method == "POST":
                command += ["-s", script.name]
            command.append(f"{base}/bench/{name}/{path}")
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=duration + 30, check=True
            )
            return parse_wrk(done.stdout)

        try:
            # Warm-up, not counted: every worker loads the app, the dictionary, the caches.
            for _status, method, path in CASES.values():
                for name in order:
                    wrk(name, method, path, 1)
            for round_number in range(rounds):
                self.stdout.write(f"round {round_number + 1}/{rounds} ...")
                order = order[1:] + order[:1]  # no handler always runs first
                for case, (_status, method, path) in CASES.items():
                    for name in order:
                        results[case, name].append(wrk(name, method, path, seconds))
        finally:
            os.unlink(script.name)
        return results

    # -- reporting -------------------------------------------------------------------------

    def report(
        self,
        results: dict[tuple[str, str], list[dict[str, float]]],
        seconds: float,
        rounds: int,
        workers: int,
        connections: int,
    ) -> None:
        out = self.stdout.write
        out(
            f"\nbench_load: gunicorn {workers} sync workers on 127.0.0.1, PostgreSQL + Redis; "
            f"wrk 2 threads, {connections} connections, {seconds:g} s per run, {rounds} "
            f"round(s); medians of the rounds (ratios: of the per-round ratios)"
        )
        has_std = "std" in HANDLERS
        header = (
            f"{'case':<19}{'handler':<11}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}"
            f"{'p99 ms':>9}{'req/s vs DRF':>14}{'p50 vs DRF':>12}"
        )
        out(header)
        out("-" * len(header))
        for case in CASES:
            medians = {
                name: {
                    k: statistics.median(r[k] for r in results[case, name])
                    for k in ("rps", "p50", "p90", "p99", "socket_errors")
                }
                for name in HANDLERS
            }
            drf = results[case, "drf"]
            for name in HANDLERS:
                m = medians[name]
                # Per round, the handlers ran back to back: the median of those ratios
                # cancels what disturbed a round (the machine is shared with wrk and the
                # servers).
                rps_ratio = statistics.median(
                    r["rps"] / d["rps"] for r, d in zip(results[case, name], drf, strict=True)
                )
                p50_ratio = statistics.median(
                    r["p50"] / d["p50"] for r, d in zip(results[case, name], drf, strict=True)
                )
                label = {"apierrors": "apierrors", "drf": "DRF stock", "std": "drf-std"}[name]
                out(
                    f"{case:<19}{label:<11}{m['rps']:>9.0f}{m['p50']:>9.2f}{m['p90']:>9.2f}"
                    f"{m['p99']:>9.2f}{rps_ratio:>14.2f}{p50_ratio:>12.2f}"
                    + (f"   ({m['socket_errors']:.0f} socket errors)" if m["socket_errors"] else "")
                )
        out(
            "req/s vs DRF = apierrors (or drf-std) requests per second / DRF stock's (higher "
            "is better); p50 vs DRF = median latency ratio (lower is better)."
            + ("" if has_std else " drf-standardized-errors: not installed.")
        )


def database_name(alias: str) -> str:
    return connections[alias].settings_dict["NAME"]


def close_connections() -> None:
    for connection in connections.all(initialized_only=True):
        connection.close()
