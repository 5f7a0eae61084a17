"""Views that raise each kind of exception the handler maps, for test_handler_mapping.py."""

from collections.abc import Callable
from typing import NoReturn

from django.core import exceptions as django_exceptions
from django.db import IntegrityError, OperationalError
from django.db.models import ProtectedError
from django.http import Http404
from django.urls import include, path
from rest_framework import exceptions as drf
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from apierrors import exceptions as ours
from testproject.clinic.models import Patient


class Item(serializers.Serializer):
    email = serializers.EmailField()
    tags = serializers.ListField(child=serializers.IntegerField(), required=False)


class Address(serializers.Serializer):
    city = serializers.CharField()


class Order(serializers.Serializer):
    address = Address()
    items = Item(many=True)


def raises(make: Callable[[], BaseException]) -> Callable[[], NoReturn]:
    """A raiser for RAISERS: raises a new exception made by ``make`` on each call."""

    def raise_it() -> NoReturn:
        raise make()

    return raise_it


RAISERS: dict[str, Callable[[], object]] = {
    "drf-validation": lambda: Order(
        data={
            "address": {},
            "items": [{"email": "ok@example.org"}, {"email": "bad", "tags": ["x"]}],
        }
    ).is_valid(raise_exception=True),
    "drf-parse": raises(drf.ParseError),
    "drf-not-authenticated": raises(drf.NotAuthenticated),
    "drf-permission": raises(drf.PermissionDenied),
    "drf-not-found": raises(drf.NotFound),
    "drf-not-acceptable": raises(drf.NotAcceptable),
    "drf-unsupported": raises(lambda: drf.UnsupportedMediaType("text/csv")),
    "drf-throttled": raises(lambda: drf.Throttled(wait=12.2)),
    "drf-custom": raises(
        lambda: type("Gone", (drf.APIException,), {"status_code": 409, "default_detail": "gone"})(
            "Already archived."
        )
    ),
    "django-404": raises(lambda: Http404("secret internals")),
    "django-permission": raises(django_exceptions.PermissionDenied),
    "django-validation": raises(
        lambda: django_exceptions.ValidationError(
            {"name": ["Too short."], "__all__": ["Inconsistent."]}
        )
    ),
    "does-not-exist": lambda: Patient.objects.get(identifier="nobody"),
    "integrity": raises(lambda: IntegrityError("secret constraint text")),
    "protected": raises(lambda: ProtectedError("secret", set())),
    "operational": raises(lambda: OperationalError("could not connect")),
    "bug": raises(lambda: RuntimeError("secret password=hunter2")),
    "api-error": raises(lambda: ours.APIError("appointment_unavailable")),
    "unknown-key": raises(lambda: ours.APIError("no_such_key")),
    "resource": raises(lambda: ours.ResourceDoesNotExist(resource="Practitioner", id=42)),
    "invalid-token": raises(ours.InvalidAccessToken),
    "unauthorized": raises(ours.Unauthorized),
    "rate-limit": raises(lambda: ours.RateLimitExceeded(retry_after=30, remaining=0)),
    "unavailable": raises(lambda: ours.ServiceUnavailable(retry_after=120)),
    "details": raises(
        lambda: ours.UnprocessableEntity(
            "appointment_unavailable", details=[("slot", "Booked at 10:00.")]
        )
    ),
}


class RaisingView(APIView):
    permission_classes = [AllowAny]

    def get(self, request, name):
        RAISERS[name]()


def plain_django_view(request):
    raise RuntimeError("secret from a plain view")


urlpatterns = [
    path("api/raise/<str:name>/", RaisingView.as_view()),
    path("api/plain-bug/", plain_django_view),
    path("errors/", include("apierrors.urls")),
]

handler404 = "apierrors.views.page_not_found"
handler500 = "apierrors.views.server_error"
