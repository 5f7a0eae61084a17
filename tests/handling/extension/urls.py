"""DRF views raising the host project's exceptions (tests/handling/test_handler_extension.py)."""

from django.urls import path
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from . import errors

RAISERS = {
    "card-declined": lambda: errors.CardDeclined("insufficient_funds"),
    "expired-card": lambda: errors.ExpiredCard("expired_card"),
    "fraud": lambda: errors.FraudSuspected("fraudulent"),
    "gateway-timeout": lambda: errors.GatewayTimeout("upstream took 31 s"),
    "slot-taken": lambda: errors.SlotTaken(42),
    "account-locked": lambda: errors.AccountLocked("locked by admin 7"),
    "not-found": lambda: NotFound(),
    "bug": lambda: RuntimeError("secret bug text"),
}


class RaisingView(APIView):
    permission_classes = [AllowAny]

    def get(self, request, name):
        raise RAISERS[name]()


urlpatterns = [path("api/ext/<str:name>/", RaisingView.as_view())]
