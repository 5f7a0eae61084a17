"""Public import path kept for settings and imports; the code lives in
``apierrors/handling/handler.py``: ``exception_handler`` and ``ExceptionHandler``.
"""

from .handling.handler import *  # noqa: F403
