"""The demo's URLs plus a few views that fail in the ways the hostile-input tests need.

The first pattern never matches and only counts how often the URLconf is consulted: each
count is one URL resolution, so a test can see how much work a request caused.
"""

from django.contrib.auth.models import Group, Permission
from django.db import connection, connections, transaction
from django.http import HttpResponse
from django.urls import URLPattern, path, re_path
from django.urls.resolvers import RoutePattern
from rest_framework.exceptions import APIException
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apierrors.transactions.middleware import AtomicRequestsMiddleware
from testproject import urls as project_urls


class ProjectAtomicRequestsMiddleware(AtomicRequestsMiddleware):
    """A project's own subclass, listed by its own dotted path."""


class CountingPattern(URLPattern):
    resolutions = 0

    def resolve(self, path):
        CountingPattern.resolutions += 1
        return super().resolve(path)


def _never(request):  # pragma: no cover - the pattern never matches
    return HttpResponse()


class BadGateway(APIException):
    status_code = 502
    default_detail = "Bad gateway."


class GatewayTimeout(APIException):
    status_code = 504
    default_detail = "Gateway timeout."


class UpstreamDown(APIException):
    status_code = 503
    default_detail = "Upstream down."


class Teapot(APIException):
    status_code = 418
    default_detail = "I'm a teapot."


SECRET = "db password=hunter2"

RAISES = {
    "500": lambda: APIException(SECRET),
    "502": lambda: BadGateway(f"upstream 10.0.0.7 said: {SECRET}"),
    "503": lambda: UpstreamDown(f"replica lag, {SECRET}"),
    "504": lambda: GatewayTimeout({"upstream": [SECRET]}),
    "418": lambda: Teapot("Short and stout."),
}


class RaiseView(APIView):
    """``/api/v1/hostile/raise/<kind>/<anything>``: raises a third-party APIException."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request, kind, rest=""):
        raise RAISES[kind]()


def _recurse(depth: int) -> int:
    return _recurse(depth + 1) + 1


class RecursingView(APIView):
    """A bug: infinite recursion in the view's own code, nothing to do with the body."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request):
        return Response({"depth": _recurse(0)})


class EchoView(APIView):
    """Parses the body, as any write endpoint does, and says what it got."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request):
        return Response({"keys": sorted(request.data), "files": sorted(request.FILES)})


def commit_fails(request):
    """Writes and answers 200, but the request's transaction cannot commit: marked for
    rollback (a caught database error), a deferred foreign key, or the database went away
    (PostgreSQL: its backend is terminated, as in a failover)."""
    Group.objects.create(name="written-before-the-failure")
    how = request.GET.get("how")
    if how == "marked":
        transaction.set_rollback(True)
    elif how == "deferred":
        Permission.objects.create(name="orphan", codename="orphan", content_type_id=987654)
    elif how == "terminated":
        pid = connection.connection.info.backend_pid
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        finally:
            other.close()
    return HttpResponse("saved", status=200)


urlpatterns = [
    CountingPattern(RoutePattern("__counting__/", is_endpoint=True), _never),
    re_path(r"^api/v1/hostile/raise/(?P<kind>[0-9]+)/(?P<rest>[\s\S]*)$", RaiseView.as_view()),
    path("api/v1/hostile/recurse/", RecursingView.as_view()),
    path("api/v1/hostile/echo/", EchoView.as_view()),
    path("api/v1/hostile/commit-fails/", commit_fails),
    path("site/commit-fails/", commit_fails),
    *project_urls.urlpatterns,
]

handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
