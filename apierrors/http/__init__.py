"""The HTTP edges: Django's error views (``error_views.py``), ``APIErrorsMiddleware``
(``errors_middleware.py``), the maintenance switch, which requests are API requests and which
view owns a path (``routing.py``), the ``Accept`` header and content negotiation, the 401's
challenge, conditional requests, rate-limit headers and the JSON parser."""
