"""``manage.py bench_atomic``: AtomicRequestsMiddleware against Django's ATOMIC_REQUESTS.

Runs a DRF write (INSERT, 201) and a DRF read (SELECT, 200) through Django's full request
handler and the project's MIDDLEWARE, on the configured databases, in three set-ups:

  none             no request transaction (for reference)
  atomic_requests  ATOMIC_REQUESTS=True on the aliases the middleware would wrap
  middleware       AtomicRequestsMiddleware first in MIDDLEWARE

Rounds alternate between the set-ups so drift (caches, the server) hits all alike; the
median per-request time over the rounds is printed with the middleware/ATOMIC_REQUESTS
ratio. Connections stay open between requests (as with CONN_MAX_AGE > 0 or a pool), so
connection set-up does not drown the difference. Bounded by --requests, --rounds and
--max-seconds. Rows it writes are named "bench-atomic-…" and deleted afterwards.

This module is also the benchmark's URLconf (``urlpatterns`` below).
"""

import gc
import itertools
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.handlers.wsgi import WSGIHandler
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections, transaction
from django.http import HttpRequest
from django.test import RequestFactory, override_settings
from django.test.utils import setup_databases, teardown_databases
from django.urls import path, resolve
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apierrors.transactions.middleware import _aliases, non_atomic

MIDDLEWARE_PATH = "apierrors.middleware.AtomicRequestsMiddleware"
PREFIX = "bench-atomic-"
_counter = itertools.count()
# (scenario, set-up) -> one (wall, CPU) seconds-per-request pair per round
Samples = dict[tuple[str, str], list[tuple[float, float]]]


class _BenchView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []


class WriteView(_BenchView):
    def post(self, request: Any) -> Response:
        Group.objects.create(name=f"{PREFIX}{next(_counter)}")
        return Response({"created": True}, status=201)


class ReadView(_BenchView):
    def get(self, request: Any) -> Response:
        names = list(Group.objects.values_list("name", flat=True)[:20])
        return Response({"names": names})


def _non_atomic_read() -> Callable[..., Any]:
    # Opted out for both: @non_atomic for the middleware, Django's decorator for
    # ATOMIC_REQUESTS, on every alias.
    view = non_atomic(ReadView.as_view())
    for alias in connections.settings:
        view = transaction.non_atomic_requests(using=alias)(view)
    return view


urlpatterns = [
    path("bench/write/", WriteView.as_view()),
    path("bench/read/", ReadView.as_view()),
    path("bench/read-non-atomic/", _non_atomic_read()),
]


class Command(BaseCommand):
    help = "Compare AtomicRequestsMiddleware with ATOMIC_REQUESTS (prints figures and ratios)."

    def add_arguments(self, parser: CommandParser) -> None:
        # Many short rounds: a set-up's sample and the next one's run close together in
        # time, so their ratio is little disturbed by other load on the machine.
        parser.add_argument(
            "--requests", type=int, default=30, help="requests per set-up per round (default 30)"
        )
        parser.add_argument("--rounds", type=int, default=60, help="rounds (default 60)")
        parser.add_argument(
            "--max-seconds",
            type=float,
            default=120.0,
            help="stop starting new rounds after this long (default 120)",
        )
        parser.add_argument(
            "--test-database",
            action="store_true",
            help="run on throwaway test databases created (and dropped) on the "
            "configured servers, as the test runner does, instead of the "
            "configured, migrated databases",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["test_database"]:
            self._bench(options)
            return
        created = setup_databases(
            verbosity=0,
            interactive=False,
            aliases=set(connections.settings),
            serialized_aliases=set(),
        )
        try:
            self._bench(options)
        finally:
            teardown_databases(created, verbosity=0)

    def _bench(self, options: dict[str, Any]) -> None:
        if Group._meta.db_table not in connections["default"].introspection.table_names():
            raise CommandError(
                "The database has no auth tables: run `manage.py migrate` "
                "first, or pass --test-database."
            )
        requests, rounds = max(options["requests"], 1), max(options["rounds"], 1)
        aliases = _aliases()
        others = [m for m in settings.MIDDLEWARE if m != MIDDLEWARE_PATH]
        factory = RequestFactory()
        scenarios: dict[str, Callable[[], HttpRequest]] = {
            "write": lambda: factory.post(
                "/bench/write/", data=b"{}", content_type="application/json"
            ),
            "read": lambda: factory.get("/bench/read/"),
            "read, @non_atomic view": lambda: factory.get("/bench/read-non-atomic/"),
        }

        Group.objects.filter(name__startswith=PREFIX).delete()
        try:
            with override_settings(ROOT_URLCONF=__name__, DEBUG=False):
                setups = {
                    "none": (self._handler(others), False),
                    "atomic_requests": (self._handler(others), True),
                    "middleware": (self._handler([MIDDLEWARE_PATH, *others]), False),
                }
                results = self._measure(
                    setups, scenarios, aliases, requests, rounds, options["max_seconds"]
                )
                resolve_us = self._time_resolve()
        finally:
            Group.objects.filter(name__startswith=PREFIX).delete()
        self._report(results, aliases, requests, resolve_us)

    # -- measuring -------------------------------------------------------------------------

    def _handler(self, middleware: list[str]) -> WSGIHandler:
        with override_settings(MIDDLEWARE=middleware):
            return WSGIHandler()  # loads the middleware chain now

    def _measure(
        self,
        setups: dict[str, tuple[WSGIHandler, bool]],
        scenarios: dict[str, Callable[[], HttpRequest]],
        aliases: list[str],
        requests: int,
        rounds: int,
        max_seconds: float,
    ) -> Samples:
        """(wall, CPU) seconds per request, one sample per (scenario, set-up) and round."""
        samples: Samples = {(scenario, setup): [] for scenario in scenarios for setup in setups}
        order = list(setups)
        started = time.perf_counter()
        for round_number in range(rounds + 1):  # round 0 warms up and is discarded
            if round_number > 2 and time.perf_counter() - started > max_seconds:
                break
            order = order[1:] + order[:1]  # no set-up always runs first
            for scenario, make_request in scenarios.items():
                for setup in order:
                    handler, atomic_requests = setups[setup]
                    count = requests if round_number else max(requests // 10, 5)
                    wall, cpu = self._run(handler, make_request, aliases, atomic_requests, count)
                    if round_number:
                        samples[scenario, setup].append((wall / count, cpu / count))
        return samples

    def _run(
        self,
        handler: WSGIHandler,
        make_request: Callable[[], HttpRequest],
        aliases: list[str],
        atomic_requests: bool,
        count: int,
    ) -> tuple[float, float]:
        for alias in aliases:
            connections.settings[alias]["ATOMIC_REQUESTS"] = atomic_requests
        built = [make_request() for _ in range(count)]
        gc.collect()
        gc.disable()
        try:
            start, start_cpu = time.perf_counter(), time.process_time()
            for request in built:
                response = handler.get_response(request)
                if response.status_code >= 300:
                    raise CommandError(f"{request.path} answered {response.status_code}")
            return time.perf_counter() - start, time.process_time() - start_cpu
        finally:
            gc.enable()
            for alias in aliases:
                connections.settings[alias]["ATOMIC_REQUESTS"] = False

    def _time_resolve(self, count: int = 20000) -> float:
        """µs for one resolve(): what resolving the URL in __call__ would have added."""
        resolve("/bench/write/")
        start = time.perf_counter()
        for _ in range(count):
            resolve("/bench/write/")
        return (time.perf_counter() - start) / count * 1e6

    # -- reporting -------------------------------------------------------------------------

    def _report(
        self, results: Samples, aliases: list[str], requests: int, resolve_us: float
    ) -> None:
        vendors = ", ".join(f"{a}={connections[a].vendor}" for a in aliases)
        rounds = len(next(iter(results.values())))
        out = self.stdout.write
        out(
            f"bench_atomic: aliases wrapped: {vendors}; {rounds} rounds x {requests} requests "
            f"per set-up; median µs per request"
        )
        for index, clock in enumerate(("wall clock", "CPU time of this process")):
            out(f"\n{clock}:")
            out(
                f"  {'scenario':<24}{'none':>9}{'ATOMIC_REQUESTS':>17}{'middleware':>12}"
                f"{'ratio':>8}{'ratio IQR':>13}"
            )
            for scenario in dict.fromkeys(s for s, _ in results):
                none, atomic, ours = (
                    [sample[index] for sample in results[scenario, setup]]
                    for setup in ("none", "atomic_requests", "middleware")
                )
                # A round's samples ran back to back: their ratio cancels slow drift.
                ratios = sorted(m / a for m, a in zip(ours, atomic, strict=True))
                iqr = f"{ratios[len(ratios) // 4]:.2f}-{ratios[(3 * len(ratios)) // 4]:.2f}"
                out(
                    f"  {scenario:<24}{statistics.median(none) * 1e6:>9.1f}"
                    f"{statistics.median(atomic) * 1e6:>17.1f}"
                    f"{statistics.median(ours) * 1e6:>12.1f}"
                    f"{statistics.median(ratios):>8.3f}{iqr:>13}"
                )
        out(
            "\nratio = middleware / ATOMIC_REQUESTS, median of per-round ratios (goal: <= 1.05). "
            "The @non_atomic row is a view opted out of both. CPU time leaves out waiting for "
            "the database server and the disk."
        )
        out(
            f"resolve() of the URL: {resolve_us:.1f} µs (the middleware does not resolve "
            f"in __call__; it learns the view in process_view)."
        )
