"""``X-Rate-Limit-Remaining`` on successful responses too, from the view's DRF throttles.

A 429 always carries ``Retry-After`` and ``X-Rate-Limit-Remaining: 0`` (the exception handler
does that). With this mixin a client also sees how many requests it has left *before* it is
throttled, and can slow down instead of hitting the wall::

    class AppointmentViewSet(RateLimitHeadersMixin, viewsets.ModelViewSet):
        throttle_classes = [ScopedRateThrottle]
        throttle_scope = "booking"

The count is read from the throttles DRF already ran for the request (``SimpleRateThrottle``
keeps ``num_requests`` and the request ``history``), so it costs no extra cache access. With
several throttles the smallest remainder is reported.
"""

from __future__ import annotations

from typing import Any

from django.http.response import HttpResponseBase
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

REMAINING_HEADER = "X-Rate-Limit-Remaining"


def remaining(throttles: list[BaseThrottle]) -> int | None:
    """Requests left in the tightest window, or None if no throttle counted this request."""
    left = [
        max(0, throttle.num_requests - len(throttle.history))
        for throttle in throttles
        if getattr(throttle, "history", None) is not None
        and getattr(throttle, "num_requests", None) is not None
    ]
    return min(left) if left else None


class RateLimitHeadersMixin:
    """For DRF views; keeps the throttle instances DRF checked, to read their counts."""

    def get_throttles(self) -> list[BaseThrottle]:
        # DRF calls this once per request (check_throttles); remember what it ran.
        self._checked_throttles = super().get_throttles()  # type: ignore[misc]
        return self._checked_throttles

    def finalize_response(
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(  # type: ignore[misc]
            request, response, *args, **kwargs
        )
        if REMAINING_HEADER not in response:
            left = remaining(getattr(self, "_checked_throttles", []))
            if left is not None:
                response[REMAINING_HEADER] = str(left)
        return response
