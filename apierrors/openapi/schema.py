"""Documented errors: a drf-spectacular ``AutoSchema`` adding each operation's error responses.

::

    REST_FRAMEWORK = {..., "DEFAULT_SCHEMA_CLASS": "apierrors.schema.AutoSchema"}

(needs ``pip install apierrors[openapi]``; a project with its own ``AutoSchema`` subclass mixes
in ``ErrorResponsesMixin`` instead). For every operation it works out, from the view, which
dictionary entries the operation can answer with, and adds one response per status:

* the body schema of the format the operation answers in (the view's ``error_format``, else
  ``DEFAULT_FORMAT``; plus every format with a media type of its own, which a client may pick
  with ``Accept``), as each format states it (``ErrorFormat.openapi_component``), narrowed to
  the possible entries where the format names them (``ErrorFormat.openapi_constraint``);
* the ``X-Error-Code``/``X-Error-Key`` headers as enums of those entries, and the status's
  own headers (``WWW-Authenticate``, ``Retry-After``, ``X-Rate-Limit-Remaining``, ``X-Request-ID``);
* ``x-error-codes``: ``[{"key", "error_code", "title"}]``, and the same list in the description.

Only entries the published dictionary lists are named (``apierrors.published``): where a
status also has an internal one, its enums are left open instead, so the schema neither shows
the internal entry nor rejects the response that carries it.

Entries a view raises itself (business rules) are listed on the view::

    class AppointmentViewSet(...):
        error_keys = {"create": ["appointment_unavailable"]}   # action (or "*") → keys

Conditional views (``apierrors.conditional.ConditionalMixin``) also get the ``If-Match`` /
``If-None-Match`` parameters, ``ETag`` on success, 304, 412 and (when required) 428.
A status the view documents itself (``@extend_schema(responses={409: …})``) is left alone.
"""

from __future__ import annotations

from collections import defaultdict
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.db import models
from drf_spectacular.drainage import warn
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import permissions
from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import CursorPagination, PageNumberPagination

from ..conf import api_settings
from ..dictionary.catalog import Entry, get_entry
from ..formats import ErrorFormat, accept_formats, choose_format
from ..http.conditional import WRITE_METHODS, ConditionalMixin
from ..http.throttling import RateLimitHeadersMixin
from ..published.views import public_entries

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
OPENAPI_MIDDLEWARE = "apierrors.openapi.OpenAPIValidationMiddleware"


_STRING = {"type": "string"}
_SECONDS = {"type": "string", "pattern": "^[0-9]+$"}


class ErrorResponsesMixin:
    """Mix into a drf-spectacular ``AutoSchema``; see the module docstring."""

    # -- what the operation can answer --------------------------------------------------

    def get_error_keys(self) -> list[str]:
        """The dictionary entries this operation can answer with."""
        view, method = self.view, self.method  # type: ignore[attr-defined]
        has_body = method in BODY_METHODS
        keys = ["internal_error", "service_unavailable", "maintenance", "not_acceptable"]
        if self._needs_authentication():
            keys.append("authentication_failed")
        if self._may_forbid():
            keys.append("authorization_failed")
        if has_body:
            keys += [
                "invalid_request",
                "parse_error",
                "unsupported_media_type",
                "request_too_large",
            ]
        if self._validated():
            keys.append("openapi_validation")
        if "{" in self.path:  # type: ignore[attr-defined]
            keys += ["unknown_resource", "not_found"]
        elif isinstance(
            self._get_paginator(),  # type: ignore[attr-defined]
            PageNumberPagination | CursorPagination,
        ):
            keys.append("not_found")  # an out-of-range page
        keys += self._model_conflicts()
        if isinstance(view, ConditionalMixin) and method in WRITE_METHODS:
            keys.append("precondition_failed")
            if view.if_match_required():
                keys.append("precondition_required")
        if view.get_throttles():
            keys.append("throttled")
        keys += self._declared_keys()
        return list(dict.fromkeys(keys))

    def _validated(self) -> bool:
        """Whether OpenAPIValidationMiddleware checks this view's requests."""
        if OPENAPI_MIDDLEWARE not in getattr(settings, "MIDDLEWARE", ()):
            return False
        own = getattr(self.view, "openapi_validation", None)  # type: ignore[attr-defined]
        if own is not None:
            return bool(own)
        return bool(api_settings.OPENAPI_VALIDATION)

    def _needs_authentication(self) -> bool:
        view = self.view  # type: ignore[attr-defined]
        perms = [type(p) for p in view.get_permissions()]
        if not view.get_authenticators() or permissions.AllowAny in perms:
            return False
        safe = self.method in permissions.SAFE_METHODS  # type: ignore[attr-defined]
        return not (safe and permissions.IsAuthenticatedOrReadOnly in perms)

    def _may_forbid(self) -> bool:
        view = self.view  # type: ignore[attr-defined]
        plain = {
            permissions.AllowAny,
            permissions.IsAuthenticated,
            permissions.IsAuthenticatedOrReadOnly,
        }
        if any(type(p) not in plain for p in view.get_permissions()):
            return True
        # Session authentication checks CSRF on unsafe methods: a 403 when it fails.
        return self.method not in permissions.SAFE_METHODS and any(  # type: ignore[attr-defined]
            isinstance(a, SessionAuthentication) for a in view.get_authenticators()
        )

    def _view_model(self) -> type[models.Model] | None:
        queryset = getattr(self.view, "queryset", None)  # type: ignore[attr-defined]
        return getattr(queryset, "model", None)

    def _model_conflicts(self) -> list[str]:
        model, method = self._view_model(), self.method  # type: ignore[attr-defined]
        if model is None:
            return []
        keys = []
        if method in BODY_METHODS:
            keys.append("conflict")  # any integrity error the database reports
            opts = model._meta
            if (
                opts.unique_together
                or any(isinstance(c, models.UniqueConstraint) for c in opts.constraints)
                or any(f.unique and not f.primary_key for f in opts.concrete_fields)
            ):
                keys.append("duplicate")
        if method == "DELETE" and any(
            getattr(rel, "on_delete", None) in (models.PROTECT, models.RESTRICT)
            for rel in model._meta.related_objects
        ):
            keys.append("protected")
        return keys

    def _declared_keys(self) -> list[str]:
        declared = getattr(self.view, "error_keys", None)  # type: ignore[attr-defined]
        if not declared:
            return []
        if not isinstance(declared, dict):
            return list(declared)
        action = getattr(self.view, "action", None)  # type: ignore[attr-defined]
        return [*declared.get("*", ()), *declared.get(action, ())]

    # -- the responses ------------------------------------------------------------------

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)  # type: ignore[misc]
        if direction != "response":
            return responses
        self._add_success_headers(responses)
        by_status: dict[int, list[Entry]] = defaultdict(list)
        for key in self.get_error_keys():
            entry = get_entry(key)
            by_status[entry.status].append(entry)
        published = {e.key for e in public_entries()}
        for status in sorted(by_status):
            responses.setdefault(
                str(status), self.error_response(status, by_status[status], published)
            )
        if self._is_conditional_read():
            responses.setdefault(
                "304",
                {
                    "description": "Not modified: `If-None-Match` named the current `ETag`.",
                    "headers": {"ETag": {"schema": _STRING, "required": True}},
                },
            )
        return responses

    def error_response(
        self, status: int, entries: list[Entry], published: set[str] | None = None
    ) -> dict[str, Any]:
        """One OpenAPI response object for the ``entries`` sharing ``status``.

        ``published``: the keys the published dictionary lists (default: looked up).
        """
        if published is None:
            published = {e.key for e in public_entries()}
        shown = [e for e in entries if e.key in published]
        closed = len(shown) == len(entries)  # else an internal entry may answer too
        content = {}
        for error_format in self._error_formats():
            ref = self._format_component(error_format)
            extra = error_format.openapi_constraint(entries) if closed else None
            content[error_format.media_type] = {"schema": {"allOf": [ref, extra]} if extra else ref}
        code_schema: dict[str, Any] = {"type": "integer"}
        key_schema: dict[str, Any] = {"type": "string"}
        if closed:
            code_schema["enum"] = sorted(e.error_code for e in entries)
            key_schema["enum"] = sorted(e.key for e in entries)
        headers: dict[str, Any] = {
            "X-Error-Code": {
                "schema": code_schema,
                "required": True,
                "description": "The entry's `error_code`.",
            },
            "X-Error-Key": {
                "schema": key_schema,
                "required": True,
                "description": "The entry's `key`.",
            },
        }
        keys = {e.key for e in entries}
        if status == 401:
            headers["WWW-Authenticate"] = {
                "schema": _STRING,
                "required": keys == {"authentication_failed"},
                "description": 'RFC 6750 challenge, e.g. `Bearer realm="api", '
                'error="invalid_token"`; absent for `unauthorized`.',
            }
        if status == 429:
            headers["Retry-After"] = {
                "schema": _SECONDS,
                "required": False,
                "description": "Seconds to wait before retrying.",
            }
            headers["X-Rate-Limit-Remaining"] = {"schema": _SECONDS, "required": True}
        if status == 503:
            headers["Retry-After"] = {
                "schema": _SECONDS,
                "required": True,
                "description": "Seconds to wait before retrying.",
            }
        if status >= 500:
            headers[api_settings.REQUEST_ID_HEADER] = {
                "schema": _STRING,
                "required": True,
                "description": "The request id, also in the body and the server's log.",
            }
        listed = ", ".join(f"`{e.key}` ({e.error_code})" for e in shown)
        return {
            "description": f"{listed or HTTPStatus(status).phrase}.",
            "content": content,
            "headers": headers,
            "x-error-codes": [
                {"key": e.key, "error_code": e.error_code, "title": e.title} for e in shown
            ],
        }

    def _error_formats(self) -> list[ErrorFormat]:
        """The operation's format, then those a client may choose with ``Accept`` (each with
        a media type of its own: FHIR and problem+json, and a project's own such formats)."""
        chosen = choose_format(None, self.view)  # type: ignore[attr-defined]
        formats = [chosen]
        if not getattr(self.view, "error_format", None):  # type: ignore[attr-defined]
            for candidate in accept_formats():
                if candidate.media_type not in {f.media_type for f in formats}:
                    formats.append(candidate)
        return formats

    def _format_component(self, error_format: ErrorFormat) -> dict[str, Any]:
        """A reference to the format's body component, registered on first use."""
        name, schema = error_format.openapi_component()
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
        )
        registry = self.registry  # type: ignore[attr-defined]
        if component not in registry:
            registry.register(component)
        elif registry[component].schema != schema:  # else the first one would document both
            warn(
                f"Two error formats document different bodies as {name!r}: "
                f"give {type(error_format).__name__} an openapi_name of its own."
            )
        return component.ref

    # -- conditional requests and rate limits on success ------------------------------

    def _is_conditional_read(self) -> bool:
        view = self.view  # type: ignore[attr-defined]
        return (
            isinstance(view, ConditionalMixin)
            and self.method == "GET"  # type: ignore[attr-defined]
            and getattr(view, "action", None) in view.etag_actions
        )

    def _add_success_headers(self, responses: dict[str, Any]) -> None:
        view = self.view  # type: ignore[attr-defined]
        action = getattr(view, "action", None)
        etag = isinstance(view, ConditionalMixin) and action in view.etag_actions
        # With etag_field, a create has no instance of the view's to tag.
        etag_always = etag and not (view.etag_field and action == "create")
        remaining = isinstance(view, RateLimitHeadersMixin) and bool(view.get_throttles())
        for status, response in responses.items():
            if not status.startswith("2"):
                continue
            headers = response.setdefault("headers", {})
            if etag:
                headers["ETag"] = {
                    "schema": _STRING,
                    "required": etag_always,
                    "description": "Send it back in `If-Match` / `If-None-Match`.",
                }
            if remaining:
                headers["X-Rate-Limit-Remaining"] = {
                    "schema": _SECONDS,
                    "required": False,
                    "description": "Requests left in the current rate-limit window.",
                }
            if not headers:
                del response["headers"]

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())  # type: ignore[misc]
        view, method = self.view, self.method  # type: ignore[attr-defined]
        detail = "{" in self.path  # type: ignore[attr-defined]
        if not isinstance(view, ConditionalMixin) or not detail:
            return parameters
        if method in WRITE_METHODS:
            parameters.append(
                OpenApiParameter(
                    "If-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    required=view.if_match_required(),
                    description="The `ETag` the change is based on; 412 if it is stale.",
                )
            )
        elif method == "GET":
            parameters.append(
                OpenApiParameter(
                    "If-None-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="A known `ETag`; 304 without a body if it is still current.",
                )
            )
        return parameters


class AutoSchema(ErrorResponsesMixin, SpectacularAutoSchema):
    """drf-spectacular's ``AutoSchema`` with apierrors' documented error responses."""
