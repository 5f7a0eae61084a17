from django.apps import apps
from django.contrib import admin
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from testproject.clinic import views

router = DefaultRouter(trailing_slash=True)
router.register("patients", views.PatientViewSet)
router.register("practitioners", views.PractitionerViewSet)
router.register("slots", views.SlotViewSet)
router.register("appointments", views.AppointmentViewSet)
router.register(
    "docplanner/bookings", views.DocplannerBookingViewSet, basename="docplanner-booking"
)
router.register(
    "shipstream/appointments", views.ShipStreamAppointmentViewSet, basename="shipstream-appointment"
)

urlpatterns = [
    path("admin/", admin.site.urls),
    # A valid token may not read the audit log: 401 unauthorized (no WWW-Authenticate).
    path("api/v1/audit-log/", views.AuditLogView.as_view(), name="audit-log"),
    # Deliberately broken: a 500 internal_error, the exception's text only in the log.
    path("api/v1/broken/", views.BrokenView.as_view(), name="broken"),
    path("api/v1/", include(router.urls)),
    path("errors/", include("apierrors.urls")),
]

if apps.is_installed("drf_spectacular"):  # pip install -e ".[openapi]"
    from drf_spectacular.views import SpectacularAPIView

    # The OpenAPI schema, with each operation's error responses (apierrors.schema).
    urlpatterns.append(path("api/schema/", SpectacularAPIView.as_view(), name="schema"))

handler400 = "apierrors.views.bad_request"
handler403 = "apierrors.views.permission_denied"
handler404 = "apierrors.views.page_not_found"
handler500 = "apierrors.views.server_error"
