"""Content negotiation that lets a client ask for an error format without a 406.

A client sending ``Accept: application/problem+json`` (or ``application/fhir+json``) says how
it wants *errors*; no DRF renderer offers those types, so DRF's own negotiation would answer
every request with 406. This class ignores the error formats' media types when choosing the
renderer for the success body; the exception handler still reads them to pick the format.

    REST_FRAMEWORK = {"DEFAULT_CONTENT_NEGOTIATION_CLASS":
                      "apierrors.negotiation.ErrorFormatNegotiation"}
"""

from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation

from .accept import MAX_RANGES


class ErrorFormatNegotiation(DefaultContentNegotiation):
    def get_accept_list(self, request: Any) -> list[str]:
        from ..formats import error_media_types

        # DRF's own split parses every element: a 64 KB header of 30,000 would cost that on
        # every request. The first MAX_RANGES are all any client sends (see accept.py).
        header = request.META.get("HTTP_ACCEPT", "*/*")
        accepted = [token.strip() for token in header.split(",", MAX_RANGES)[:MAX_RANGES]]
        error_types = error_media_types()
        kept = [a for a in accepted if a.split(";")[0].strip().lower() not in error_types]
        return kept or ["*/*"]
