"""Public import path kept for settings and imports; the code lives in
``apierrors/http/conditional.py``: ``ConditionalMixin``.
"""

from .http.conditional import *  # noqa: F403
