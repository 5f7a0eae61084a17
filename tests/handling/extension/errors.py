"""A host project's own exceptions, none derived from APIError: a payment provider's SDK and a
booking domain, as ``APIERRORS["EXCEPTION_KEYS"]`` would meet them."""

from django.core.exceptions import PermissionDenied


class PaymentError(Exception):
    """The provider SDK's base class (not listed: an unlisted subclass stays a 500)."""


class CardDeclined(PaymentError):
    def __init__(self, decline_code: str) -> None:
        # The SDK's text carries internals that must never reach a client.
        super().__init__(f"gateway ref=sk_live_secret decline_code={decline_code}")
        self.decline_code = decline_code


class ExpiredCard(CardDeclined):
    """Not listed itself: maps as its listed base class does."""


class FraudSuspected(CardDeclined):
    """Listed itself: the most specific listed class wins over CardDeclined's line."""


class GatewayTimeout(PaymentError):
    """Not listed, nor any base of it but Exception: a 500 like any bug."""


class SlotTaken(Exception):
    def __init__(self, slot: int) -> None:
        super().__init__(f"slot {slot} taken")
        self.slot = slot


class AccountLocked(PermissionDenied):
    """Derived from a class the handler maps (403): the project's line is more specific."""
