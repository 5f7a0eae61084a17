"""Public import path kept for settings and imports; the code lives in
``apierrors/http/negotiation.py``: ``ErrorFormatNegotiation``.
"""

from .http.negotiation import *  # noqa: F403
