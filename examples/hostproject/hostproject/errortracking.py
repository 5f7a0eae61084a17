"""A stand-in for an error tracker's Django integration: like Sentry's, it listens to Django's
``got_request_exception`` and records the exception being handled and the request."""

import sys

from django.core.signals import got_request_exception

events = []  # what would be sent to the tracker


def capture_request_exception(sender, request=None, **kwargs):
    exc_type, exc_value, _traceback = sys.exc_info()
    events.append({"type": exc_type, "value": exc_value, "path": getattr(request, "path", None)})


def init():
    got_request_exception.connect(capture_request_exception, dispatch_uid="errortracking")
