"""Public import path kept for settings and imports; the code lives in
``apierrors/transactions/middleware.py``: ``AtomicRequestsMiddleware`` and ``non_atomic``.
"""

from .transactions.middleware import *  # noqa: F403
