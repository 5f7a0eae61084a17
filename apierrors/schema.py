"""Public import path kept for settings and imports; the code lives in
``apierrors/openapi/schema.py``: drf-spectacular's ``AutoSchema``.
"""

from .openapi.schema import *  # noqa: F403
