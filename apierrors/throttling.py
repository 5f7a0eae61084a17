"""Public import path kept for settings and imports; the code lives in
``apierrors/http/throttling.py``: ``RateLimitHeadersMixin``.
"""

from .http.throttling import *  # noqa: F403
