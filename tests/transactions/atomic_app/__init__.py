"""Views and URLs that exercise AtomicRequestsMiddleware (tests only)."""
