"""Public import path kept for settings and imports; the code lives in
``apierrors/admin/resources.py``: ``SpreadsheetSafeCSV`` and the other import/export formats.
"""

from .admin.resources import *  # noqa: F403
