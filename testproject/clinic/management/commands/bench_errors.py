"""``manage.py bench_errors``: apierrors' handler against DRF's stock one, in the same run.

For each stamp cache set-up (the dictionary's stamp in Redis, as the README prescribes for
several processes, and in a process-local LocMemCache), and each case (``NotFound``, a
5-field ``ValidationError``, list serializer errors of 20 and 1,000 items), it times:

- ``view:``    a whole DRF view call: a new request, dispatch, the exception handler, the
  rendered body (``APIView.as_view()(request)`` then ``response.render()``);
- ``handler:`` the exception handler plus its JSON body alone;
- ``request:`` 404 and 422 requests through Django's test client and the project's
  middleware;

with apierrors' ``exception_handler``, DRF's stock ``exception_handler`` (and JSONRenderer),
and drf-standardized-errors when it is installed (for comparison only: never a dependency).
Each case runs in interleaved rounds for about ``--seconds`` per handler (three times that for
requests); the best round counts (the least disturbed by the machine). It prints µs per call,
the ratios and the goals.

This module is the demo project's, not the app's: the installed package carries no benchmark.
"""

import contextlib
import dataclasses
import gc
import os
import platform
import socket
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import django
import rest_framework
from django.conf import settings
from django.core.cache import caches
from django.core.handlers.wsgi import WSGIRequest
from django.core.management.base import BaseCommand, CommandParser
from django.test import Client, override_settings
from django.urls import path
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from apierrors.catalog import catalog
from apierrors.conf import api_settings
from apierrors.exceptions import APIError
from apierrors.handler import exception_handler as our_exception_handler
from apierrors.stats.counter import counter

try:  # optional, for comparison only: never a dependency
    from drf_standardized_errors.handler import exception_handler as std_exception_handler
except ImportError:  # pragma: no cover - depends on the environment
    std_exception_handler = None

BENCH_CACHE = "apierrors-bench"
# Ratio to DRF's stock handler the whole view call must stay under (issue 12).
GOALS = {
    "NotFound": 1.15,
    "ValidationError, 5 fields": 1.15,
    "list error, 20 items": 1.15,
    "list error, 1,000 items": 1.5,
}

# -- what fails ----------------------------------------------------------------------------


class PersonSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=5)
    email = serializers.EmailField()
    age = serializers.IntegerField(min_value=0)
    country = serializers.ChoiceField(choices=["PL", "ES", "US"])
    phone = serializers.CharField()


class ItemSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=8)
    quantity = serializers.IntegerField(min_value=1)


def five_field_error() -> ValidationError:
    serializer = PersonSerializer(
        data={"name": "much too long", "email": "nope", "age": -1, "country": "XX"}
    )
    serializer.is_valid()
    return ValidationError(serializer.errors)


def list_error(items: int) -> ValidationError:
    data = [{"sku": "ABC", "quantity": 0} for _ in range(items)]
    serializer = ItemSerializer(data=data, many=True)
    serializer.is_valid()
    return ValidationError(serializer.errors)


def cases() -> list[tuple[str, Exception]]:
    return [
        ("NotFound", NotFound()),
        ("ValidationError, 5 fields", five_field_error()),
        ("list error, 20 items", list_error(20)),
        ("list error, 1,000 items", list_error(1000)),
    ]


# -- the views -----------------------------------------------------------------------------

HANDLERS: dict[str, Callable[..., Any]] = {
    "apierrors": our_exception_handler,
    "drf": drf_exception_handler,
}
if std_exception_handler is not None:
    HANDLERS["std"] = std_exception_handler


class BenchView(APIView):
    """Raises ``self.exc``; the class names its exception handler, so no setting changes
    between calls. apierrors' views keep the project's negotiation (ErrorFormatNegotiation);
    the others get DRF's own, as a project without apierrors has."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes: list[Any] = []
    handler_name = "apierrors"
    exc: Exception = NotFound()

    def get_exception_handler(self) -> Callable[..., Any]:
        return HANDLERS[self.handler_name]

    def get(self, request: Request, **kwargs: Any) -> None:
        raise self.exc.with_traceback(None)  # a fresh traceback, as a new exception has


def view_class(handler: str, error_format: str, exc: Exception | None = None) -> type:
    attrs: dict[str, Any] = {"handler_name": handler, "error_format": error_format}
    if handler != "apierrors":
        attrs["content_negotiation_class"] = DefaultContentNegotiation
    if exc is not None:
        attrs["exc"] = exc
    return type(f"BenchView_{handler}", (BenchView,), attrs)


class RequestView(BenchView):
    def get(self, request: Request, handler: str, kind: str) -> None:
        if kind == "404":
            raise NotFound()
        raise APIError("appointment_unavailable")


def request_view(handler: str) -> Callable[..., Any]:
    cls = type(
        f"RequestView_{handler}",
        (RequestView,),
        {
            "handler_name": handler,
            "content_negotiation_class": (
                RequestView.content_negotiation_class
                if handler == "apierrors"
                else DefaultContentNegotiation
            ),
        },
    )
    return cls.as_view()


urlpatterns = [
    path(f"bench/{name}/<str:kind>/", request_view(name), kwargs={"handler": name})
    for name in HANDLERS
]


# -- timing --------------------------------------------------------------------------------


def stats_on_and_off(func: Callable[[], Any]) -> dict[str, Callable[[], Any]]:
    """``func`` with statistics on (the in-memory increment, and outside a test run the
    flusher thread writing every STATS_FLUSH_SECONDS) and off: the switch is set before
    each call, so both are timed interleaved in one run."""
    config = counter.config or counter.configure()
    on, off = dataclasses.replace(config, enabled=True), dataclasses.replace(config, enabled=False)

    def with_stats() -> Any:
        counter.config = on
        return func()

    def without_stats() -> Any:
        counter.config = off
        return func()

    return {"on": with_stats, "off": without_stats}


def _batch(func: Callable[[], Any], loops: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        func()
    return time.perf_counter() - start


def measure(funcs: dict[str, Callable[[], Any]], seconds: float) -> dict[str, list[float]]:
    """µs per call of each function, one sample per round; the rounds interleave them."""
    loops = {}
    for name, func in funcs.items():
        func()  # warm: imports, the catalog, per-format caches
        n = 1
        while (elapsed := _batch(func, n)) < 0.01 and n < 1_000_000:
            n *= 4
        # ~5 ms per round, short enough to fall between two disturbances on a busy machine,
        # and at least 5 calls, so a slow call is measured warm (caches) as in a loop.
        loops[name] = max(5, int(n * 0.005 / max(elapsed, 1e-9)))
    samples: dict[str, list[float]] = {name: [] for name in funcs}
    rounds = max(5, int(seconds / 0.005))
    deadline = time.perf_counter() + seconds * len(funcs) * 1.5
    gc_was_enabled = gc.isenabled()
    gc.disable()  # collections would land on random rounds, not on the code measured
    order = list(funcs)
    try:
        for done in range(rounds):
            order = order[1:] + order[:1]  # none always runs right after the same other one
            for name in order:
                samples[name].append(_batch(funcs[name], loops[name]) / loops[name] * 1e6)
                # A raised exception's traceback holds a cycle (frames → locals → response):
                # freed here, between timings, rather than piling up (and slowing the
                # allocator) until the end.
                gc.collect(0)
            if done >= 4 and time.perf_counter() > deadline:
                break
    finally:
        if gc_was_enabled:
            gc.enable()
    return samples


def summarize(samples: dict[str, list[float]]) -> dict[str, float]:
    """Median µs of each function, and the median of the per-round ratios to DRF's: the
    samples of one round ran back to back, so a ratio cancels what disturbed them both."""
    result = {name: statistics.median(values) for name, values in samples.items()}
    for name, key in (("drf", "ratio"), ("std", "vs std")):
        if name in samples:
            result[key] = statistics.median(
                ours / theirs
                for ours, theirs in zip(samples["apierrors"], samples[name], strict=True)
            )
    return result


# -- cache set-ups -------------------------------------------------------------------------


def redis_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or 6379), timeout=0.5
        ):
            return True
    except OSError:
        return False


def cache_setups(redis_url: str, names: list[str]) -> dict[str, dict[str, Any]]:
    """Set-up name → CACHES entry for the stamp."""
    redis = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_url,
        "KEY_PREFIX": "apierrors-bench",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
    known = {
        "redis": redis,
        # Nothing listens on port 1: every stamp read fails (the README's "cache down").
        "redis-down": {**redis, "LOCATION": "redis://127.0.0.1:1/0"},
        "locmem": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "apierrors-bench",
        },
    }
    return {name: known[name] for name in names}


@contextmanager
def stamp_in(cache: dict[str, Any], check_seconds: float | None) -> Iterator[None]:
    apierrors = {**getattr(settings, "APIERRORS", {}), "CACHE_ALIAS": BENCH_CACHE}
    if check_seconds is not None:
        apierrors["STAMP_CHECK_SECONDS"] = check_seconds
    with override_settings(CACHES={**settings.CACHES, BENCH_CACHE: cache}, APIERRORS=apierrors):
        catalog.reset()
        yield
    catalog.reset()


class Command(BaseCommand):
    help = (
        "Time apierrors' exception handler against DRF's stock one (and "
        "drf-standardized-errors, if installed): whole view calls, the handler alone, "
        "and requests, with the stamp in Redis and in a process-local cache."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seconds",
            type=float,
            default=0.3,
            help="measuring time per case and handler (default 0.3)",
        )
        parser.add_argument(
            "--format",
            dest="error_format",
            default=None,
            help="error format for apierrors (default: DEFAULT_FORMAT)",
        )
        parser.add_argument(
            "--redis-url",
            default=os.environ.get("APIERRORS_REDIS_URL", "redis://127.0.0.1:6379/0"),
            help="Redis for the stamp (default: $APIERRORS_REDIS_URL or "
            "redis://127.0.0.1:6379/0); keys are prefixed apierrors-bench",
        )
        parser.add_argument(
            "--setups",
            default="redis,locmem",
            help="comma-separated stamp caches: redis, locmem, redis-down (default redis,locmem)",
        )
        parser.add_argument(
            "--check-seconds",
            type=float,
            default=None,
            help="APIERRORS['STAMP_CHECK_SECONDS'] to measure with (default: "
            "the project's setting); 0 reads the stamp on every error",
        )
        parser.add_argument(
            "--no-requests",
            action="store_true",
            help="leave out the test-client requests (the slowest rows)",
        )

    def handle(
        self,
        *args: Any,
        seconds: float,
        error_format: str | None,
        redis_url: str,
        setups: str,
        check_seconds: float | None,
        no_requests: bool,
        **options: Any,
    ) -> None:
        seconds = min(max(seconds, 0.05), 10.0)
        error_format = error_format or api_settings.DEFAULT_FORMAT
        self.stdout.write(
            f"Python {platform.python_version()}, Django {django.get_version()}, DRF "
            f"{rest_framework.VERSION}; apierrors format {error_format!r}; "
            f"drf-standardized-errors "
            f"{'installed' if std_exception_handler else 'not installed'}"
        )
        names = [n.strip() for n in setups.split(",") if n.strip()]
        # Warm-up, not reported: the first case measured would otherwise pay for the
        # process's first steps (lazy imports, caches, the CPU settling).
        measure(self.view_calls(NotFound(), error_format), min(seconds, 0.2))
        for name, cache in cache_setups(redis_url, names).items():
            if name == "redis" and not redis_reachable(redis_url):
                self.stdout.write(f"\n== stamp in Redis at {redis_url}: not reachable, skipped ==")
                continue
            with stamp_in(cache, check_seconds):
                interval = catalog._check_seconds()
                where = cache["LOCATION"] if "Redis" in cache["BACKEND"] else "this process"
                self.stdout.write(
                    f"\n== stamp in {cache['BACKEND'].rsplit('.', 1)[-1]} ({name}, {where}); "
                    f"STAMP_CHECK_SECONDS={interval:g} =="
                )
                with contextlib.suppress(Exception):  # connect now, not in the first round
                    caches[BENCH_CACHE].get("apierrors-bench-warmup", None)
                self.print_table(self.run_setup(error_format, seconds, no_requests))
                self.print_stats_cost(error_format, seconds)

    def run_setup(
        self, error_format: str, seconds: float, no_requests: bool
    ) -> list[tuple[str, dict[str, float]]]:
        rows = []
        for name, exc in cases():
            rows.append(
                (f"view: {name}", summarize(measure(self.view_calls(exc, error_format), seconds)))
            )
        for name, exc in cases():
            rows.append(
                (
                    f"handler: {name}",
                    summarize(measure(self.handler_calls(exc, error_format), seconds)),
                )
            )
        if not no_requests:
            RequestView.error_format = error_format
            with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"]):
                for name, kind in [
                    ("request: 404 (test client)", "404"),
                    ("request: 422 (test client)", "422"),
                ]:
                    # A request costs ~30x a handler call and varies more: measure longer.
                    rows.append((name, summarize(measure(self.request_calls(kind), 3 * seconds))))
        return rows

    def print_stats_cost(self, error_format: str, seconds: float) -> None:
        """The same whole view call with error statistics on and off, interleaved."""
        self.stdout.write(
            f"{'statistics (same view call)':<38}{'on µs':>13}{'off µs':>10}{'on/off':>7}"
        )
        try:
            for name, exc in cases()[:2]:
                ours = self.view_calls(exc, error_format)["apierrors"]
                samples = measure(stats_on_and_off(ours), seconds)
                ratio = statistics.median(
                    on / off for on, off in zip(samples["on"], samples["off"], strict=True)
                )
                self.stdout.write(
                    f"{'view: ' + name:<38}{statistics.median(samples['on']):>13.1f}"
                    f"{statistics.median(samples['off']):>10.1f}{ratio:>7.2f}"
                )
        finally:
            counter.config = None  # back to the project's own STATS

    def view_calls(self, exc: Exception, error_format: str) -> dict[str, Callable[[], Any]]:
        environ = APIRequestFactory().get("/api/v1/bench/").environ

        def call_with(handler: str) -> Callable[[], Any]:
            view = view_class(handler, error_format, exc).as_view()

            def call() -> bytes:
                response = view(WSGIRequest(dict(environ)))  # a new request, as a server has
                response.render()
                return response.content

            return call

        return {handler: call_with(handler) for handler in HANDLERS}

    def handler_calls(self, exc: Exception, error_format: str) -> dict[str, Callable[[], Any]]:
        view = view_class("apierrors", error_format)()
        view.kwargs = {}
        request = Request(APIRequestFactory().get("/api/v1/bench/"))
        view.request = request
        context = {"request": request, "view": view, "args": (), "kwargs": {}}
        renderer = JSONRenderer()
        calls: dict[str, Callable[[], Any]] = {
            "apierrors": lambda: our_exception_handler(exc, context).content,
            "drf": lambda: renderer.render(drf_exception_handler(exc, context).data),
        }
        if std_exception_handler is not None:
            calls["std"] = lambda: renderer.render(std_exception_handler(exc, context).data)
        return calls

    def request_calls(self, kind: str) -> dict[str, Callable[[], Any]]:
        client = Client(raise_request_exception=False)
        expected = int(kind)

        def call_with(handler: str) -> Callable[[], Any]:
            url = f"/bench/{handler}/{kind}/"

            def call() -> bytes:
                response = client.get(url)
                assert response.status_code == expected, (url, response.status_code)
                return response.content

            return call

        return {handler: call_with(handler) for handler in HANDLERS}

    def print_table(self, rows: list[tuple[str, dict[str, float]]]) -> None:
        """One line per case: median µs per handler, median per-round ratios, the goal."""
        has_std = std_exception_handler is not None
        header = f"{'case':<38}{'apierrors µs':>13}{'DRF µs':>10}{'ratio':>7}{'goal':>7}"
        header += f"{'std µs':>10}{'vs std':>8}" if has_std else "   drf-standardized-errors"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for name, result in rows:
            ours, drf, ratio = result["apierrors"], result["drf"], result["ratio"]
            goal = GOALS.get(name.removeprefix("view: ")) if name.startswith("view: ") else None
            mark = "" if goal is None else (f"≤{goal:.2f}" if ratio <= goal else "OVER")
            line = f"{name:<38}{ours:>13.1f}{drf:>10.1f}{ratio:>7.2f}{mark:>7}"
            if has_std:
                line += f"{result['std']:>10.1f}{result['vs std']:>8.2f}"
            else:
                line += "   not installed"
            self.stdout.write(line)
        self.stdout.write(
            "µs: median per call over the rounds; ratio = apierrors / DRF stock, vs std = "
            "apierrors / drf-standardized-errors, each the median of the per-round ratios. "
            "Goals for the whole view call: ratio ≤ 1.15 (≤ 1.5 at 1,000 items; OVER when "
            "missed), vs std < 1."
        )
