"""Public import path kept for settings and imports; the code lives in
``apierrors/http/errors_middleware.py``: ``APIErrorsMiddleware``.
"""

from .http.errors_middleware import *  # noqa: F403
