"""Public import path kept for settings and imports; the code lives in
``apierrors/http/error_views.py``: ``handler400/403/404/500`` and ``csrf_failure``.
"""

from .http.error_views import *  # noqa: F403
