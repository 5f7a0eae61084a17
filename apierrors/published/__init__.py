"""The published dictionary: its pages and JSON (``views.py``, routed by ``apierrors.urls``),
and an entry's responses in every format (``preview.py``, also shown in the admin)."""
