"""The rollback guarantee: ``AtomicRequestsMiddleware`` (``middleware.py``) and which views it
treats as API views or lets opt out, on which aliases (``view_policy.py``)."""
