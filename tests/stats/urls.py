"""The demo's URLs plus views that write before failing, for the error-statistics tests."""

from django.contrib.auth.models import Group
from django.urls import path
from rest_framework.views import APIView

from apierrors.exceptions import APIError
from apierrors.stats import flush
from testproject.urls import handler400, handler403, handler404, handler500  # noqa: F401
from testproject.urls import urlpatterns as demo_urlpatterns

# What the flushing view's flush() returned (the test reads it).
flushed: list[int] = []


class WriteThenFail(APIView):
    """Creates a group (rolled back with the error response), then fails."""

    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request, name: str):
        Group.objects.create(name=name)
        raise APIError("appointment_unavailable")


class FlushThenFail(APIView):
    """Flushes the process's counts from inside the request (as the flusher thread might
    while a request's transaction is open), writes, then fails: all of it rolled back."""

    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request, name: str):
        flushed.append(flush())
        Group.objects.create(name=name)
        raise APIError("conflict")


urlpatterns = [
    path("api/stats-test/write-then-fail/<str:name>/", WriteThenFail.as_view()),
    path("api/stats-test/flush-then-fail/<str:name>/", FlushThenFail.as_view()),
    *demo_urlpatterns,
]
