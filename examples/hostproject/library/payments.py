"""The card payment provider's client (in this example it only checks that it has a key)."""

import uuid

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def charge(amount_cents, description):
    if not settings.PAYMENT_API_KEY:
        raise ImproperlyConfigured("PAYMENT_API_KEY is not set: cannot charge cards.")
    return f"ch_{uuid.uuid4().hex[:16]}"
