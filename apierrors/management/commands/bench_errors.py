"""``manage.py bench_errors``: our handler against DRF's stock one, measured in the same run.

For each case it times, per call, exception → handler → JSON body:

- apierrors: ``apierrors.handler.exception_handler`` (its response carries the rendered body);
- DRF: ``rest_framework.views.exception_handler`` then ``JSONRenderer().render(response.data)``;
- drf-standardized-errors, the same way, when it is installed.

and a full request through Django's test client (the project's middleware, a DRF view) with
each handler as ``EXCEPTION_HANDLER``. Each case runs in interleaved rounds for about
``--seconds`` per handler (three times that for requests); the best round counts (the least
disturbed by the machine).
"""

import gc
import platform
import time
from collections.abc import Callable
from typing import Any

import django
import rest_framework
from django.conf import settings
from django.core.cache import caches
from django.core.management.base import BaseCommand, CommandParser
from django.test import Client, override_settings
from django.urls import path
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from apierrors.conf import api_settings
from apierrors.exceptions import APIError
from apierrors.handler import exception_handler as our_exception_handler

try:  # optional, for comparison only: never a dependency
    from drf_standardized_errors.handler import exception_handler as std_exception_handler
except ImportError:  # pragma: no cover - depends on the environment
    std_exception_handler = None

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
    serializer = PersonSerializer(data={"name": "much too long", "email": "nope", "age": -1,
                                        "country": "XX"})
    serializer.is_valid()
    return ValidationError(serializer.errors)


def list_error(items: int) -> ValidationError:
    data = [{"sku": "ABC", "quantity": 0} for _ in range(items)]
    serializer = ItemSerializer(data=data, many=True)
    serializer.is_valid()
    return ValidationError(serializer.errors)


# -- a full request ------------------------------------------------------------------------


class BenchView(APIView):
    """Raises; the URL names the exception handler, so no setting changes between calls."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get_exception_handler(self) -> Callable[..., Any]:
        return HANDLERS[self.kwargs["handler"]]

    def get(self, request: Request, handler: str, kind: str) -> None:
        if kind == "404":
            raise NotFound()
        raise APIError("appointment_unavailable")


HANDLERS: dict[str, Callable[..., Any]] = {
    "apierrors": our_exception_handler,
    "drf": drf_exception_handler,
}
if std_exception_handler is not None:
    HANDLERS["std"] = std_exception_handler

urlpatterns = [path("bench/<str:handler>/<str:kind>/", BenchView.as_view())]


# -- timing --------------------------------------------------------------------------------


def _batch(func: Callable[[], Any], loops: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        func()
    return time.perf_counter() - start


def measure(funcs: dict[str, Callable[[], Any]], seconds: float) -> dict[str, float]:
    """Best µs per call of each function, timed in interleaved rounds."""
    loops = {}
    for name, func in funcs.items():
        func()  # warm: imports, the catalog, per-format caches
        n = 1
        while (elapsed := _batch(func, n)) < 0.01 and n < 1_000_000:
            n *= 4
        loops[name] = max(1, int(n * 0.02 / max(elapsed, 1e-9)))  # ~20 ms per round
    best = dict.fromkeys(funcs, float("inf"))
    rounds = max(3, int(seconds / 0.02))
    deadline = time.perf_counter() + seconds * len(funcs) * 1.5
    gc_was_enabled = gc.isenabled()
    gc.disable()  # collections land on random rounds; the best round shows the code's cost
    try:
        for _ in range(rounds):
            for name, func in funcs.items():
                best[name] = min(best[name], _batch(func, loops[name]) / loops[name])
            if time.perf_counter() > deadline:
                break
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: value * 1e6 for name, value in best.items()}


class Command(BaseCommand):
    help = ("Time our exception handler plus rendering against DRF's stock exception_handler "
            "plus JSONRenderer (and drf-standardized-errors, if installed), per call.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seconds", type=float, default=0.3,
                            help="measuring time per case and handler (default 0.3)")
        parser.add_argument("--format", dest="error_format", default=None,
                            help="error format for apierrors (default: DEFAULT_FORMAT)")

    def handle(self, *args: Any, seconds: float, error_format: str | None, **options: Any
               ) -> None:
        seconds = min(max(seconds, 0.05), 10.0)
        error_format = error_format or api_settings.DEFAULT_FORMAT
        backend = settings.CACHES.get(api_settings.CACHE_ALIAS, {}).get("BACKEND", "?")
        stamp_cache = backend.rsplit(".", 1)[-1]
        if stamp_cache in ("LocMemCache", "DummyCache"):
            stamp_cache += " (process-local: the stamp is not read)"
        else:
            stamp_cache += " (one read per error response)"
        self.stdout.write(
            f"Python {platform.python_version()}, Django {django.get_version()}, DRF "
            f"{rest_framework.VERSION}; apierrors format {error_format!r}; stamp cache "
            f"{stamp_cache}; drf-standardized-errors "
            f"{'installed' if std_exception_handler else 'not installed'}"
        )
        caches[api_settings.CACHE_ALIAS].get("apierrors-bench-warmup")
        rows = []
        for name, exc in [
            ("NotFound", NotFound()),
            ("ValidationError, 5 fields", five_field_error()),
            ("list serializer error, 20 items", list_error(20)),
            ("list serializer error, 1,000 items", list_error(1000)),
        ]:
            rows.append((name, measure(self.handler_calls(exc, error_format), seconds)))
        BenchView.error_format = error_format
        with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["testserver"]):
            for name, kind in [("request: 404 (test client)", "404"),
                               ("request: 422 (test client)", "422")]:
                # A request costs ~30x a handler call and varies more: measure longer.
                rows.append((name, measure(self.request_calls(kind), 3 * seconds)))
        self.print_table(rows)

    def handler_calls(self, exc: Exception, error_format: str
                      ) -> dict[str, Callable[[], Any]]:
        view = BenchView()
        view.error_format = error_format
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
        has_std = std_exception_handler is not None
        header = f"{'case':<36}{'apierrors µs':>14}{'DRF µs':>10}{'ratio':>8}"
        header += f"{'std µs':>10}{'vs std':>8}" if has_std else "   drf-standardized-errors"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for name, result in rows:
            ours, drf = result["apierrors"], result["drf"]
            line = f"{name:<36}{ours:>14.1f}{drf:>10.1f}{ours / drf:>8.2f}"
            if has_std:
                std = result["std"]
                line += f"{std:>10.1f}{ours / std:>8.2f}"
            else:
                line += "   not installed"
            self.stdout.write(line)
        self.stdout.write(
            "ratio = apierrors / DRF stock (goal ≤ 1.3; ≤ 1.5 at 1,000 items); "
            "vs std = apierrors / drf-standardized-errors (goal < 1)."
        )
