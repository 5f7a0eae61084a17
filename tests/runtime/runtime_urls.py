"""Views that fail in known ways, for the catalog and run-time tests (no tests here).

``/rt/<format>/<kind>/`` answers in ``format`` (the view's ``error_format``). No
authentication, so a failure is the only thing the request does: a query counted while it
runs belongs to error rendering. ``/rt-tx/...`` runs the same view inside a transaction.
"""

import contextlib

from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.cache import BaseCache, caches
from django.db import DatabaseError, IntegrityError, transaction
from django.urls import include, path
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.views import APIView

from apierrors.exceptions import APIError, ResourceDoesNotExist, ServiceUnavailable

# What the last "integrity" request observed, for the test to check its own premise.
observed: dict[str, bool] = {}


class PatientSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=5)
    email = serializers.EmailField()
    age = serializers.IntegerField(min_value=0)


def validation_error() -> None:
    serializer = PatientSerializer(data={"name": "far too long", "email": "x", "age": -1})
    serializer.is_valid(raise_exception=True)


def swallow_integrity_error_then_fail() -> None:
    """A view that catches an IntegrityError and goes on, then fails for another reason.

    On PostgreSQL the request's transaction is now aborted: every query fails until rollback.
    """
    with contextlib.suppress(IntegrityError):  # swallowed, as careless code does
        Group.objects.create(name="taken")  # the test created it: a unique violation
    try:
        Group.objects.exists()
        observed["aborted"] = False
    except DatabaseError:
        observed["aborted"] = True
    raise APIError("appointment_unavailable")


def mark_for_rollback_then_fail() -> None:
    transaction.set_rollback(True)
    observed["marked"] = transaction.get_connection().needs_rollback
    raise APIError("appointment_unavailable")


def read_then_fail() -> None:
    """Read (taking the transaction's snapshot), let the test act, then fail."""
    Group.objects.count()
    if "after_read" in hooks:
        hooks["after_read"]()
    raise APIError("appointment_unavailable")


# Set by a test: called by the "snapshot" view between its read and its failure.
hooks: dict = {}


def fail(exc: Exception):
    def raise_it() -> None:
        raise exc

    return raise_it


KINDS = {
    "not_found": fail(NotFound()),
    "unknown_patient": fail(ResourceDoesNotExist(resource="Patient", id="a47c")),
    "validation": validation_error,
    "business": fail(APIError("appointment_unavailable")),
    "unavailable": fail(ServiceUnavailable()),
    "key": lambda: None,  # then APIError(?key=...)
    "query": lambda: Group.objects.count(),  # fails when the database is unreachable
    "integrity": swallow_integrity_error_then_fail,
    "marked": mark_for_rollback_then_fail,
    "snapshot": read_then_fail,
}


class FailingView(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def initial(self, request, *args, **kwargs):
        self.error_format = kwargs["fmt"]
        super().initial(request, *args, **kwargs)

    def get(self, request, fmt: str, kind: str):
        KINDS[kind]()
        raise APIError(request.GET.get("key", "internal_error"))


def in_transaction(view):
    """What AtomicRequestsMiddleware does, so these views run inside a transaction even
    where the middleware is left out: open one, and roll it back on an error response."""

    def wrapped(request, *args, **kwargs):
        with transaction.atomic():
            response = view(request, *args, **kwargs)
            if response.status_code >= 400:
                transaction.set_rollback(True)
        return response

    return wrapped


def shared_stamp_cache(settings, tmp_path) -> BaseCache:
    """The cache holding the stamp, shared between processes as in production: the run's
    Redis, or files for the SQLite run (whose local-memory cache no other process could
    publish to, so the catalog doesn't even read it). Read on every error response
    (STAMP_CHECK_SECONDS 0), so that the test can play the other process, publishing."""
    settings.APIERRORS = {**settings.APIERRORS, "STAMP_CHECK_SECONDS": 0}
    if settings.CACHES["default"]["BACKEND"].endswith((".LocMemCache", ".DummyCache")):
        settings.CACHES = {
            **settings.CACHES,
            "stamp": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "stamp-cache"),
            },
        }
        settings.APIERRORS = {**settings.APIERRORS, "CACHE_ALIAS": "stamp"}
        return caches["stamp"]
    return caches["default"]


urlpatterns = [
    path("admin/", admin.site.urls),
    path("errors/", include("apierrors.urls")),
    path("rt/<str:fmt>/<str:kind>/", FailingView.as_view()),
    path("rt-tx/<str:fmt>/<str:kind>/", in_transaction(FailingView.as_view())),
]
