"""What ``manage.py bench_load`` requests: ``/bench/<handler>/<case>/``.

The same four cases for each exception handler (apierrors', DRF's stock one, and
drf-standardized-errors' when it is installed); the view class picks its handler, so one
server serves them all and the middleware stack is the same for each:

  404   GET  patients/<missing uuid>/   a detail view's lookup misses (one query)
  400   POST patients/                  a 5-field serializer fails validation
  422   GET  business/                  a business rule refuses the request
  200   GET  patients/<demo uuid>/      the patient, for reference (one query)
"""

from collections.abc import Callable
from typing import Any

from django.urls import path
from rest_framework import generics, serializers
from rest_framework.exceptions import APIException
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from apierrors.exceptions import APIError
from apierrors.handler import exception_handler as our_exception_handler
from testproject.clinic.models import Patient

HANDLERS: dict[str, Callable[..., Any]] = {
    "apierrors": our_exception_handler,
    "drf": drf_exception_handler,
}
try:  # optional, for comparison only: never a dependency
    from drf_standardized_errors.handler import exception_handler as std_exception_handler
except ImportError:  # pragma: no cover - depends on the environment
    pass
else:
    HANDLERS["std"] = std_exception_handler


class PatientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = ["id", "identifier", "name", "email"]


class PersonSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=5)
    email = serializers.EmailField()
    age = serializers.IntegerField(min_value=0)
    country = serializers.ChoiceField(choices=["PL", "ES", "US"])
    phone = serializers.CharField()


class SlotTaken(APIException):
    """The 422 as a project without apierrors writes it."""

    status_code = 422
    default_detail = "This appointment time is no longer available."
    default_code = "appointment_unavailable"


class Bench:
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []
    handler_name = "apierrors"

    def get_exception_handler(self) -> Callable[..., Any]:
        return HANDLERS[self.handler_name]


class PatientDetail(Bench, generics.RetrieveAPIView):
    queryset = Patient.objects.all()
    serializer_class = PatientSerializer


class PatientCreate(Bench, generics.CreateAPIView):
    serializer_class = PersonSerializer


class Business(Bench, APIView):
    def get(self, request: Any) -> None:
        if self.handler_name == "apierrors":
            raise APIError("appointment_unavailable")
        raise SlotTaken()


def for_handler(view: type, handler: str) -> Callable[..., Any]:
    attrs: dict[str, Any] = {"handler_name": handler}
    if handler != "apierrors":  # a project without apierrors has DRF's own negotiation
        attrs["content_negotiation_class"] = DefaultContentNegotiation
    return type(f"{view.__name__}_{handler}", (view,), attrs).as_view()


urlpatterns = [
    route
    for name in HANDLERS
    for route in (
        path(f"bench/{name}/patients/<uuid:pk>/", for_handler(PatientDetail, name)),
        path(f"bench/{name}/patients/", for_handler(PatientCreate, name)),
        path(f"bench/{name}/business/", for_handler(Business, name)),
    )
]
