"""The demo clinic API. Failures are never handled here: they are raised, and apierrors answers."""

from django.contrib.admin.models import LogEntry
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import TokenAuthentication
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apierrors.conditional import ConditionalMixin
from apierrors.exceptions import APIError, Forbidden, Unauthorized
from apierrors.throttling import RateLimitHeadersMixin

from .models import Appointment, Patient, Practitioner, Slot
from .permissions import SamePractice, practice_of
from .serializers import (
    AppointmentSerializer,
    AuditEntrySerializer,
    PatientImportSerializer,
    PatientSerializer,
    PractitionerSerializer,
    SlotSerializer,
)

try:
    from drf_spectacular.utils import extend_schema
except ImportError:  # the OpenAPI schema is optional (pip install -e ".[openapi]")

    def extend_schema(*args, **kwargs):
        return lambda view: view


class BookingThrottle(ScopedRateThrottle):
    """Bookings (POST) are rate limited per user (``DEFAULT_THROTTLE_RATES["booking"]``)."""

    def allow_request(self, request, view):
        if request.method != "POST":
            return True
        return super().allow_request(request, view)

    def get_rate(self):
        # Read the rate per request, so a changed setting applies without a restart.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class PatientViewSet(ConditionalMixin, viewsets.ModelViewSet):
    """Patients of every practice are addressable; another practice's answer 403.

    Detail responses carry an ETag; a write with a stale If-Match answers 412.
    """

    queryset = Patient.objects.all()
    serializer_class = PatientSerializer
    permission_classes = [IsAuthenticated, SamePractice]

    def get_queryset(self):
        if self.action == "list":
            return Patient.objects.filter(practice_id=practice_of(self.request.user))
        return Patient.objects.all()

    def perform_create(self, serializer):
        serializer.save(practice_id=practice_of(self.request.user))

    @extend_schema(request=PatientImportSerializer, responses={201: PatientSerializer(many=True)})
    @action(detail=False, methods=["post"], url_path="import")
    def import_patients(self, request):
        serializer = PatientImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        practice_id = practice_of(request.user)
        created = [
            Patient.objects.create(practice_id=practice_id, **item)
            for item in serializer.validated_data["items"]
        ]
        return Response(PatientSerializer(created, many=True).data, status=status.HTTP_201_CREATED)


class PractitionerViewSet(ConditionalMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Everyone reads practitioners; a practice's staff edit their own (else 403).

    Edits must be conditional: PUT/PATCH without If-Match (the ETag just read) answers 428
    ``precondition_required``, with a stale one 412, so no edit overwrites one unseen.
    """

    queryset = Practitioner.objects.all()
    serializer_class = PractitionerSerializer
    require_if_match = True

    def get_permissions(self):
        if self.request.method in SAFE_METHODS:
            return [IsAuthenticated()]
        return [IsAuthenticated(), SamePractice()]


class SlotViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Slot.objects.select_related("appointment")
    serializer_class = SlotSerializer


class AppointmentViewSet(
    RateLimitHeadersMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Booking: a slot someone else just took answers 422 ``appointment_unavailable``.

    Bookings are throttled (429 with Retry-After); every booking response says how many are
    left in X-Rate-Limit-Remaining.
    """

    queryset = Appointment.objects.select_related("patient")
    serializer_class = AppointmentSerializer
    permission_classes = [IsAuthenticated, SamePractice]
    throttle_classes = [BookingThrottle]
    throttle_scope = "booking"
    # Documented in the OpenAPI schema (apierrors.schema) beside the automatic entries.
    error_keys = {"create": ["appointment_unavailable"]}

    def perform_create(self, serializer):
        patient = serializer.validated_data["patient"]
        self.check_object_permissions(self.request, patient)
        slot = serializer.validated_data["slot"]
        # Lock the slot so two bookings of it serialize; the loser sees it taken.
        locked = Slot.objects.select_for_update().get(pk=slot.pk)
        if Appointment.objects.filter(slot=locked).exists():
            raise APIError("appointment_unavailable")
        serializer.save()


class DocplannerBookingViewSet(AppointmentViewSet):
    """The booking callback Docplanner calls: its errors are ``{"error_code": N}``."""

    error_format = "docplanner"


class ShipStreamAppointmentViewSet(AppointmentViewSet):
    """The same booking, for a partner speaking ShipStream's ``errors`` envelope."""

    error_format = "shipstream"


class AuditLogView(APIView):
    """Who changed the error dictionary (the admin's log), for an admin's browser session.

    An API token, even a valid one, may not read it: 401 ``unauthorized`` without
    ``WWW-Authenticate`` (canvasapi's ``Unauthorized``: the key is valid, not allowed here;
    authenticating again would not help). A session of someone who is not staff: 403.
    """

    permission_classes = [IsAuthenticated]
    error_keys = ["unauthorized", "authorization_failed"]  # documented in the schema

    @extend_schema(responses=AuditEntrySerializer(many=True))
    def get(self, request):
        if isinstance(request.successful_authenticator, TokenAuthentication):
            raise Unauthorized()
        if not request.user.is_staff:
            raise Forbidden()
        entries = LogEntry.objects.filter(content_type__app_label="apierrors").select_related(
            "user", "content_type"
        )[:50]
        return Response(AuditEntrySerializer(entries, many=True).data)


class BrokenView(APIView):
    """Deliberately broken, to show a 500: the view raises a plain exception, as a bug would.

    apierrors answers ``internal_error`` with an ``X-Request-ID`` that is also in the logged
    traceback; the exception's text stays in the log (with DEBUG off, never in the body).
    Left out of the OpenAPI schema: it is nothing a client should call.
    """

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request):
        raise RuntimeError("Deliberate demo bug: this text is logged, never sent to the client")
