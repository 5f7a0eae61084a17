"""The clinic's URLs plus small views raising what application code raises (HTTP tests).

The demo API cannot be driven to every case (a 401 without a challenge, a view whose first
authenticator is SessionAuthentication, a crash, plain Django views under /api/), so these
views are served beside it, with the project's handlers.
"""

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views import View
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
)
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from apierrors import exceptions
from testproject import urls as project_urls
from testproject.clinic.authentication import BearerTokenAuthentication

SECRET = "secret-detail-that-must-not-leave-the-server"


@api_view(["GET"])
@authentication_classes([SessionAuthentication, BearerTokenAuthentication])
@permission_classes([IsAuthenticated])
def session_first(request):
    return Response({"user": request.user.username})


@api_view(["GET"])
@authentication_classes([BasicAuthentication])
@permission_classes([IsAuthenticated])
def basic_only(request):
    return Response({"user": request.user.username})


@api_view(["GET"])
@authentication_classes([SessionAuthentication])
@permission_classes([IsAuthenticated])
def session_only(request):
    return Response({"user": request.user.username})


@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def invalid_access_token(request):
    raise exceptions.InvalidAccessToken()


@api_view(["GET"])
@permission_classes([IsAuthenticated])
def unauthorized(request):
    raise exceptions.Unauthorized()


@api_view(["GET", "POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def crash(request):
    raise RuntimeError(SECRET)


class PlainView(View):
    """A plain Django view under /api/: only GET and POST; ?fail= raises; ?count= queries."""

    def get(self, request):
        if request.GET.get("count"):
            return HttpResponse(str(Group.objects.count()))
        fail = request.GET.get("fail")
        if fail == "403":
            raise PermissionDenied(SECRET)
        if fail == "400":
            raise SuspiciousOperation(SECRET)
        if fail == "500":
            raise RuntimeError(SECRET)
        return HttpResponse("ok")

    def post(self, request):
        return JsonResponse({"length": len(request.body)})


def html_crash(request):
    raise RuntimeError(SECRET)


urlpatterns = [
    path("api/v1/test/session-first/", session_first),
    path("api/v1/test/basic-only/", basic_only),
    path("api/v1/test/session-only/", session_only),
    path("api/v1/test/invalid-access-token/", invalid_access_token),
    path("api/v1/test/unauthorized/", unauthorized),
    path("api/v1/test/crash/", crash),
    path("api/plain/", PlainView.as_view()),
    path("html/crash/", html_crash),
    *project_urls.urlpatterns,
]

handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
