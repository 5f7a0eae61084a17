"""Public import path kept for settings and imports; the code lives in
``apierrors/dictionary/declared.py``: ``declare()`` and ``DeclaredError``.
"""

from .dictionary.declared import *  # noqa: F403
