"""The error dictionary: declared entries (``declared.py``), their message templates
(``message_template.py``), the database rows (``apierrors/models.py``, Django's models module),
the in-memory copy per process (``catalog.py``), writing declared entries the database lacks
(``sync.py``) and the signals tying them together (``signals.py``)."""
