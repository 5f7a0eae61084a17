"""Views driven by a JSON "spec", so each test states its scenario in one line.

spec = {
    "ops": [["create", alias, name], ["delete", alias, name], ["dangling", alias],
            ["bad_sql", alias], ["lock", alias, name]],
    # create_atomic / create_nosp / create_raw: the same insert inside the view's own
    # atomic(using=alias) block, one with savepoint=False, or through a raw cursor; each can
    # be the alias's first use, which is when the request's transaction begins.
    "on_commit_early": [alias, ...],  # a callback registered before any op (a first use)
    "on_commit": [alias, ...],        # register a callback recording (alias, tag) per alias
    "on_commit_raises": alias,        # register a callback that raises, on that alias
    "tag": "t1",
    "session": value,                 # request.session["value"] = value
    "swallow": alias,                 # cause an IntegrityError on alias and catch it
    "outcome": "ok" | "redirect" | "fail" | "raise" | "raise_client" | "render_fail",
    "status": 201,                    # for ok / fail
}

Writes go to django.contrib.auth's Group table on the named alias (no router: ``.using``).
"""

import contextlib
import json
import threading
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.template.response import SimpleTemplateResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import viewsets
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apierrors.transactions.middleware import non_atomic

# (alias, tag) for every on_commit callback that ran; tests clear it.
CALLS: list[tuple[str, str]] = []


class CallbackFailed(Exception):
    pass


def _record(alias: str, tag: str) -> None:
    CALLS.append((alias, tag))


def _explode() -> None:
    raise CallbackFailed("on_commit callback failed")


def spec_of(request: HttpRequest) -> dict[str, Any]:
    return json.loads(request.body or b"{}")


def perform(request: HttpRequest, spec: dict[str, Any]) -> None:
    """Do the spec's database work and session change (everything before the outcome)."""
    for alias in spec.get("on_commit_early", []):
        transaction.on_commit(
            lambda a=alias: _record(a, "early-" + spec.get("tag", "")), using=alias
        )
    for op, alias, *args in spec.get("ops", []):
        if op == "create":
            Group.objects.using(alias).create(name=args[0])
        elif op == "create_atomic":
            with transaction.atomic(using=alias):
                Group.objects.using(alias).create(name=args[0])
        elif op == "create_nosp":
            with transaction.atomic(using=alias, savepoint=False):
                Group.objects.using(alias).create(name=args[0])
        elif op == "create_raw":
            with connections[alias].cursor() as cursor:
                cursor.execute("INSERT INTO auth_group (name) VALUES (%s)", [args[0]])
        elif op == "lock":
            # Refused outside a transaction (PostgreSQL, MariaDB): the request's must be on.
            list(Group.objects.using(alias).select_for_update().filter(name=args[0]))
        elif op == "delete":
            Group.objects.using(alias).filter(name=args[0]).delete()
        elif op == "dangling":
            # A row whose foreign keys point nowhere: deferred to commit on PostgreSQL and
            # SQLite, rejected at once by InnoDB.
            Group.permissions.through.objects.using(alias).create(
                group_id=987654321, permission_id=987654321
            )
        elif op == "bad_sql":
            try:
                with connections[alias].cursor() as cursor:
                    cursor.execute("SELECT * FROM apierrors_atomic_no_such_table")
            except DatabaseError:
                pass  # swallowed on purpose
        else:
            raise AssertionError(op)
    for alias in spec.get("on_commit", []):
        transaction.on_commit(lambda a=alias: _record(a, spec.get("tag", "")), using=alias)
    if spec.get("on_commit_raises"):
        transaction.on_commit(_explode, using=spec["on_commit_raises"])
    if "session" in spec:
        request.session["value"] = spec["session"]
    if spec.get("swallow"):
        alias = spec["swallow"]
        Group.objects.using(alias).create(name="swallowed-duplicate")
        # The bug under test: the error is caught and the view carries on.
        with contextlib.suppress(IntegrityError):
            Group.objects.using(alias).create(name="swallowed-duplicate")


class BrokenTemplateResponse(SimpleTemplateResponse):
    """A template response that fails while rendering, after the view returned."""

    def __init__(self) -> None:
        super().__init__(template="unused.html", status=200)

    @property
    def rendered_content(self) -> str:
        raise RuntimeError("template rendering failed")


def plain_outcome(spec: dict[str, Any]) -> HttpResponse:
    outcome = spec.get("outcome", "ok")
    if outcome == "ok":
        return HttpResponse("done", status=spec.get("status", 200))
    if outcome == "redirect":
        return HttpResponseRedirect("/done/")
    if outcome == "fail":
        return HttpResponse("refused", status=spec.get("status", 422))
    if outcome == "raise":
        raise RuntimeError("view failed")
    if outcome == "raise_client":
        raise PermissionDenied("not yours")
    if outcome == "render_fail":
        return BrokenTemplateResponse()
    raise AssertionError(outcome)


def api_outcome(spec: dict[str, Any]) -> Response:
    outcome = spec.get("outcome", "ok")
    if outcome == "ok":
        return Response({"created": True}, status=spec.get("status", 201))
    if outcome == "fail":
        return Response({"detail": "refused"}, status=spec.get("status", 422))
    if outcome == "raise":
        raise RuntimeError("view failed")
    if outcome == "raise_client":
        raise ValidationError({"name": ["This name is not allowed."]})
    if outcome == "render_fail":
        return Response({"value": object()}, status=201)  # JSONRenderer cannot encode it
    raise AssertionError(outcome)


# -- Django (non-API) views ---------------------------------------------------------------


@csrf_exempt
def plain(request: HttpRequest) -> HttpResponse:
    spec = spec_of(request)
    perform(request, spec)
    return plain_outcome(spec)


@csrf_exempt
async def plain_async(request: HttpRequest) -> HttpResponse:
    spec = spec_of(request)
    await sync_to_async(perform)(request, spec)
    return plain_outcome(spec)


@non_atomic
@csrf_exempt
def plain_non_atomic(request: HttpRequest) -> HttpResponse:
    spec = spec_of(request)
    perform(request, spec)
    return plain_outcome(spec)


@transaction.non_atomic_requests(using="other")
@csrf_exempt
def plain_non_atomic_other(request: HttpRequest) -> HttpResponse:
    spec = spec_of(request)
    perform(request, spec)
    return plain_outcome(spec)


@csrf_exempt
def durable(request: HttpRequest) -> HttpResponse:
    with transaction.atomic(durable=True):
        Group.objects.create(name="durable")
    return HttpResponse("done", status=201)


@non_atomic
@csrf_exempt
def durable_non_atomic(request: HttpRequest) -> HttpResponse:
    with transaction.atomic(durable=True):
        Group.objects.create(name="durable")
    return HttpResponse("refused", status=422)


@csrf_exempt
def stream(request: HttpRequest) -> StreamingHttpResponse:
    spec = spec_of(request)
    perform(request, spec)

    def body():
        yield b"first chunk\n"
        # Runs after the middleware has finished: outside the request transaction.
        Group.objects.create(name="written-while-streaming")
        yield b"second chunk\n"

    return StreamingHttpResponse(body(), status=spec.get("status", 200))


def count(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"groups": Group.objects.count()})


# A request held in its view, using no database, until a test lets it go.
in_wait, release_wait = threading.Event(), threading.Event()


def wait(request: HttpRequest) -> HttpResponse:
    in_wait.set()
    release_wait.wait(10)
    return HttpResponse("released")


# -- DRF (API) views ------------------------------------------------------------------------


class OpenView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]


class ApiView(OpenView):
    def post(self, request: Any) -> Response:
        spec = request.data
        perform(request, spec)
        return api_outcome(spec)


class ApiNonAtomicView(ApiView):
    atomic_requests = False


class ApiMethodNonAtomicView(OpenView):
    @non_atomic
    def post(self, request: Any) -> Response:
        spec = request.data
        perform(request, spec)
        return api_outcome(spec)

    def put(self, request: Any) -> Response:
        spec = request.data
        perform(request, spec)
        return api_outcome(spec)


class GroupViewSet(viewsets.ViewSet):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @non_atomic
    def create(self, request: Any) -> Response:
        perform(request, request.data)
        return api_outcome(request.data)

    def update(self, request: Any, pk: str) -> Response:
        perform(request, request.data)
        return api_outcome(request.data)


@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def api_function(request: Any) -> Response:
    perform(request, request.data)
    return api_outcome(request.data)


class ApiProblemView(ApiView):
    error_format = "problem"
