"""Handling an exception: the pipeline exception → normalized error → format → response
(``handler.py``), the normalized error (``normalized.py``), a project's exception classes
(``exception_keys.py``), broken unique constraints (``integrity.py``), too deeply nested
bodies (``body_parsing.py``) and request data in log lines (``logsafe.py``). The exceptions
views raise are ``apierrors.exceptions``."""
