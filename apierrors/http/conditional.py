"""Conditional requests for DRF detail views: ETag, If-Match (412/428), If-None-Match (304).

::

    class PatientViewSet(ConditionalMixin, viewsets.ModelViewSet):
        require_if_match = True        # PUT/PATCH/DELETE without If-Match → 428

* Detail responses (retrieve, create, update, partial update) carry a strong ``ETag``: a hash of the
  representation the client received, so any change a client could see changes the tag.
  Set ``etag_field = "version"`` (or ``"updated_at"``) to hash that field instead, or override
  ``get_etag(instance)``.
* ``PUT``/``PATCH``/``DELETE`` with ``If-Match`` (RFC 9110 §13.1.1, strong comparison) that
  names no current tag → 412 ``precondition_failed``, before validation or any write. Inside a
  transaction (``AtomicRequestsMiddleware``) the row is locked (``SELECT … FOR UPDATE``) from
  the check to the write, so two clients holding the same tag cannot both win.
* ``require_if_match`` (default ``APIERRORS["REQUIRE_IF_MATCH"]``, else False): a write without
  ``If-Match`` → 428 ``precondition_required``.
* ``GET``/``HEAD`` with ``If-None-Match`` naming the current tag (weak comparison) → 304 with the
  ``ETag`` and no body.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, router
from django.db.models import Model, QuerySet
from django.http import HttpResponseNotModified
from django.http.response import HttpResponseBase
from rest_framework.request import Request

from ..conf import api_settings
from ..exceptions import PreconditionFailed, PreconditionRequired

# The writes ConditionalMixin guards with If-Match (its OpenAPI schema documents them too).
WRITE_METHODS = frozenset({"PUT", "PATCH", "DELETE"})
READ_METHODS = frozenset({"GET", "HEAD"})
# Headers a 304 keeps from the 200 it stands for (RFC 9110 §15.4.5).
_NOT_MODIFIED_HEADERS = ("ETag", "Cache-Control", "Content-Location", "Expires", "Vary")


def etag_of(value: Any) -> str:
    """A strong entity tag (quoted) for a JSON-serializable value; key order does not matter."""
    payload = json.dumps(value, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return '"' + hashlib.sha256(payload.encode()).hexdigest()[:32] + '"'


def parse_etags(header: str) -> list[str]:
    """``W/"a", "b"`` → ``['W/"a"', '"b"']``; ``*`` stays ``['*']``. Tags may contain commas."""
    tags, i, n = [], 0, len(header)
    while i < n:
        while i < n and header[i] in " \t,":
            i += 1
        if i >= n:
            break
        if header[i] == "*":
            tags.append("*")
            i += 1
            continue
        start = i
        if header.startswith("W/", i):
            i += 2
        if i < n and header[i] == '"':
            end = header.find('"', i + 1)
            if end == -1:
                break  # an unterminated tag matches nothing
            i = end + 1
            tags.append(header[start:i])
        else:  # not an entity tag; skip to the next comma
            end = header.find(",", i)
            i = n if end == -1 else end
    return tags


def strong_match(tags: list[str], current: str) -> bool:
    return "*" in tags or any(t == current and not t.startswith("W/") for t in tags)


def weak_match(tags: list[str], current: str) -> bool:
    bare = current.removeprefix("W/")
    return "*" in tags or any(t.removeprefix("W/") == bare for t in tags)


class ConditionalMixin:
    """For ``GenericAPIView``/``GenericViewSet`` subclasses; list it before the DRF base."""

    etag_field: str | None = None
    require_if_match: bool | None = None
    # Actions whose successful response is the object's representation.
    etag_actions: frozenset[str] = frozenset({"retrieve", "create", "update", "partial_update"})

    request: Request

    def get_etag(self, instance: Model | None, data: Any = None) -> str | None:
        """The current tag of ``instance``, whose representation ``data`` is when given.

        ``instance`` is None after a create (the new object is the serializer's): return None
        for no ``ETag`` when the tag needs the instance.
        """
        if self.etag_field:
            if instance is None:
                return None
            return etag_of(str(getattr(instance, self.etag_field)))
        if data is None:
            data = self.get_serializer(instance).data  # type: ignore[attr-defined]
        return etag_of(data)

    def if_match_required(self) -> bool:
        if self.require_if_match is not None:
            return self.require_if_match
        return bool(api_settings.REQUIRE_IF_MATCH)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)  # type: ignore[misc]
        if self._locks_for_precondition(queryset):
            # Hold the row from the If-Match check to the write; "of self" keeps the lock
            # off select_related tables (and PostgreSQL allows it over outer joins).
            features = connections[queryset.db].features
            if features.has_select_for_update_of:
                return queryset.select_for_update(of=("self",))
            if features.has_select_for_update:
                return queryset.select_for_update()
        return queryset

    def _locks_for_precondition(self, queryset: QuerySet) -> bool:
        request = getattr(self, "request", None)
        if request is None or request.method not in WRITE_METHODS:
            return False
        # Locking needs a transaction (outside one, SELECT … FOR UPDATE is an error).
        alias = router.db_for_write(queryset.model)
        return "HTTP_IF_MATCH" in request.META and connections[alias].in_atomic_block

    def get_object(self) -> Model:
        instance = super().get_object()  # type: ignore[misc]
        self._etag_instance = instance
        if self.request.method in WRITE_METHODS:
            self.check_preconditions(instance)
        return instance

    def check_preconditions(self, instance: Model) -> None:
        """412 for a stale ``If-Match``, 428 for a missing one when it is required."""
        header = self.request.META.get("HTTP_IF_MATCH")
        if header is None:
            if self.if_match_required():
                raise PreconditionRequired()
            return
        current = self.get_etag(instance)
        if current is None or not strong_match(parse_etags(header), current):
            raise PreconditionFailed()

    def finalize_response(
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(  # type: ignore[misc]
            request, response, *args, **kwargs
        )
        if (
            getattr(self, "action", None) not in self.etag_actions
            or not 200 <= response.status_code < 300
            or getattr(response, "data", None) is None
        ):
            return response
        # The representation just sent is what the tag describes (and saves serializing twice).
        tag = self.get_etag(getattr(self, "_etag_instance", None), response.data)
        if tag is None:
            return response
        response["ETag"] = tag
        if request.method in READ_METHODS:
            header = request.META.get("HTTP_IF_NONE_MATCH")
            if header is not None and weak_match(parse_etags(header), tag):
                not_modified = HttpResponseNotModified()
                for name in _NOT_MODIFIED_HEADERS:
                    if name in response:
                        not_modified[name] = response[name]
                return not_modified
        return response
