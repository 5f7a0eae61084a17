"""Public import path kept for settings and imports; the code lives in
``apierrors/http/parsers.py``: ``JSONParser``.
"""

from .http.parsers import *  # noqa: F403
