"""Public import path kept for settings and imports; the code lives in
``apierrors/dictionary/catalog.py``: ``dictionary_changed`` and the in-memory dictionary.
"""

from .dictionary.catalog import *  # noqa: F403
