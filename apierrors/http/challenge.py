"""The ``WWW-Authenticate`` challenge of a 401 (RFC 9110 §11.6.1, RFC 6750 §3).

DRF only sends a challenge when the view's *first* authentication class offers one, and turns
the 401 into a 403 otherwise (e.g. ``SessionAuthentication`` first). A client can then no
longer tell "log in" from "not allowed", so apierrors always answers missing or invalid
credentials with 401 and a challenge:

* the challenge of the first of the view's authenticators that offers one
  (``Bearer realm="api"`` for a Bearer token class), else ``Bearer realm="<AUTH_REALM>"``;
* a Bearer challenge gets ``error="invalid_token"`` when the request carried a Bearer
  credential that did not authenticate; without one it carries no error code (RFC 6750 §3.1:
  "If the request lacks any authentication information … SHOULD NOT include an error code").
"""

from __future__ import annotations

from typing import Any

from rest_framework.settings import api_settings as drf_settings

from ..conf import api_settings


def authenticators(request: Any, view: Any) -> list[Any]:
    """The authenticator instances that applied to this request (DRF's, else the defaults)."""
    found = getattr(request, "authenticators", None)
    if found is None and isinstance(view, type):  # a view class (before the view ran)
        found = [cls() for cls in getattr(view, "authentication_classes", ())]
    elif found is None and hasattr(view, "get_authenticators"):
        found = view.get_authenticators()
    if found is None:
        found = [cls() for cls in drf_settings.DEFAULT_AUTHENTICATION_CLASSES]
    return list(found)


def www_authenticate(request: Any, view: Any = None) -> str:
    """The challenge for a 401 answering missing or invalid credentials."""
    challenge = None
    for authenticator in authenticators(request, view):
        header = authenticator.authenticate_header(request) if request is not None else None
        if header:
            challenge = str(header)
            break
    if challenge is None:
        challenge = f'Bearer realm="{api_settings.AUTH_REALM}"'
    scheme = challenge.split(None, 1)[0]
    if scheme.lower() == "bearer" and "error=" not in challenge and _sent(request, scheme):
        separator = ", " if challenge.strip() != scheme else " "
        challenge = f'{challenge}{separator}error="invalid_token"'
    return challenge


def _sent(request: Any, scheme: str) -> bool:
    """Whether the request carried credentials of ``scheme`` (so they were rejected)."""
    meta = getattr(request, "META", None) or {}
    authorization = meta.get("HTTP_AUTHORIZATION", "")
    return authorization.split(None, 1)[0].lower() == scheme.lower() if authorization else False
