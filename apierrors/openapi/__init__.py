"""OpenAPI: ``schema.py`` (drf-spectacular's ``AutoSchema``, documenting each operation's error
responses) and ``validation.py`` (``OpenAPIValidationMiddleware``, requests checked against the
schema by openapi-core).

``apierrors.openapi.OpenAPIValidationMiddleware`` stays the path to name in ``MIDDLEWARE``; it
is loaded on first use, so importing ``apierrors.openapi.schema`` needs no openapi-core.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "OpenAPIValidationMiddleware":
        from .validation import OpenAPIValidationMiddleware

        return OpenAPIValidationMiddleware
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
