"""Views that raise each kind of exception the handler maps, for tests/test_handler_mapping."""

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


RAISERS = {
    "drf-validation": lambda: Order(
        data={
            "address": {},
            "items": [{"email": "ok@example.org"}, {"email": "bad", "tags": ["x"]}],
        }
    ).is_valid(raise_exception=True),
    "drf-parse": lambda: (_ for _ in ()).throw(drf.ParseError()),
    "drf-not-authenticated": lambda: (_ for _ in ()).throw(drf.NotAuthenticated()),
    "drf-permission": lambda: (_ for _ in ()).throw(drf.PermissionDenied()),
    "drf-not-found": lambda: (_ for _ in ()).throw(drf.NotFound()),
    "drf-not-acceptable": lambda: (_ for _ in ()).throw(drf.NotAcceptable()),
    "drf-unsupported": lambda: (_ for _ in ()).throw(drf.UnsupportedMediaType("text/csv")),
    "drf-throttled": lambda: (_ for _ in ()).throw(drf.Throttled(wait=12.2)),
    "drf-custom": lambda: (_ for _ in ()).throw(
        type("Gone", (drf.APIException,), {"status_code": 409, "default_detail": "gone"})(
            "Already archived."
        )
    ),
    "django-404": lambda: (_ for _ in ()).throw(Http404("secret internals")),
    "django-permission": lambda: (_ for _ in ()).throw(django_exceptions.PermissionDenied()),
    "django-validation": lambda: (_ for _ in ()).throw(
        django_exceptions.ValidationError({"name": ["Too short."], "__all__": ["Inconsistent."]})
    ),
    "does-not-exist": lambda: Patient.objects.get(identifier="nobody"),
    "integrity": lambda: (_ for _ in ()).throw(IntegrityError("secret constraint text")),
    "protected": lambda: (_ for _ in ()).throw(ProtectedError("secret", set())),
    "operational": lambda: (_ for _ in ()).throw(OperationalError("could not connect")),
    "bug": lambda: (_ for _ in ()).throw(RuntimeError("secret password=hunter2")),
    "api-error": lambda: (_ for _ in ()).throw(ours.APIError("appointment_unavailable")),
    "unknown-key": lambda: (_ for _ in ()).throw(ours.APIError("no_such_key")),
    "resource": lambda: (_ for _ in ()).throw(
        ours.ResourceDoesNotExist(resource="Practitioner", id=42)
    ),
    "invalid-token": lambda: (_ for _ in ()).throw(ours.InvalidAccessToken()),
    "unauthorized": lambda: (_ for _ in ()).throw(ours.Unauthorized()),
    "rate-limit": lambda: (_ for _ in ()).throw(
        ours.RateLimitExceeded(retry_after=30, remaining=0)
    ),
    "unavailable": lambda: (_ for _ in ()).throw(ours.ServiceUnavailable(retry_after=120)),
    "details": lambda: (_ for _ in ()).throw(
        ours.UnprocessableEntity("appointment_unavailable", details=[("slot", "Booked at 10:00.")])
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
