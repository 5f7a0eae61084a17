"""RFC 9457 problem details, with the dictionary's ``error_code`` and field ``errors``."""

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from ..dictionary.catalog import Entry
from ..handling.normalized import NormalizedError
from .base import (
    LONG_LIST,
    ErrorFormat,
    alike,
    error_code_enum,
    json_string,
    json_value,
    spliced_paths,
)

_STRING = {"type": "string"}


def json_pointer(path: str) -> str:
    """``items.0.email`` → ``#/items/0/email`` (RFC 6901, as a URI fragment)."""
    if not path:
        return "#"
    if "~" not in path and "/" not in path:  # the usual case, once per field error
        return "#/" + path.replace(".", "/")
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in path.split("."))


class ProblemFormat(ErrorFormat):
    name = "problem"
    media_type = "application/problem+json"
    openapi_name = "ProblemDetails"
    openapi_schema = {
        "type": "object",
        "description": "RFC 9457 problem details, with the dictionary's code and key.",
        "required": ["type", "title", "status", "detail", "error_code", "key", "errors"],
        "properties": {
            "type": {"type": "string", "format": "uri-reference"},
            "title": _STRING,
            "status": {"type": "integer"},
            "detail": _STRING,
            "instance": _STRING,
            "error_code": {"type": "integer"},
            "key": _STRING,
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["pointer", "detail"],
                    "properties": {
                        "pointer": _STRING,
                        "detail": _STRING,
                        "code": {"type": "string", "nullable": True},
                    },
                },
            },
            "request_id": _STRING,
        },
    }

    def render(self, error: NormalizedError, request: HttpRequest | None) -> dict[str, Any]:
        entry = error.entry
        body: dict[str, Any] = {
            "type": self.type_uri(error, request),
            "title": entry.localized()[0] if error.title is None else error.title,
            "status": entry.status,
            "detail": error.message,
        }
        if error.instance:
            body["instance"] = error.instance
        body["error_code"] = entry.error_code
        body["key"] = entry.key
        body["errors"] = [
            {"pointer": json_pointer(d.path), "detail": d.message, "code": d.code}
            for d in error.details
        ]
        if error.request_id:
            body["request_id"] = error.request_id
        return body

    def openapi_constraint(self, entries: Sequence[Entry]) -> dict[str, Any]:
        return {
            "properties": {
                "error_code": error_code_enum(entries),
                "status": {"type": "integer", "enum": sorted({e.status for e in entries})},
                "key": {"type": "string", "enum": sorted(e.key for e in entries)},
            }
        }

    def render_json(self, error: NormalizedError, request: HttpRequest | None) -> bytes:
        """``render()``'s bytes, with the ``errors`` list written directly (one string per
        field error instead of a dict for the encoder to walk)."""
        if type(self).render is not ProblemFormat.render:  # a subclass changed the body
            return super().render_json(error, request)
        value = json_value
        before, after = self._head(error, request)
        head = before + value(error.message)
        if error.instance:
            head += f',"instance":{value(error.instance)}'
        head += after
        enc, pointer = json_string, json_pointer
        items = []
        add = items.append
        details = error.details
        try:
            if len(details) >= LONG_LIST and (same := alike(details)) is not None:
                # Every item fails alike: one shared tail, each item's pointer spliced in.
                message, code = same
                code_json = "null" if code is None else enc(code)
                rest = f',"detail":{enc(message)},"code":{code_json}}}'
                pointers = spliced_paths(details, f'"{rest},{{"pointer":"#/', pointer=True)
                if pointers is not None:
                    add('{"pointer":"#/' + pointers + '"' + rest)
                    details = ()
        except (TypeError, AttributeError):  # not text (a number, say): the encoder decides
            return super().render_json(error, request)
        # Per item as little as can be: json_pointer's usual case inline, and what follows
        # the pointer written once per run of equal message and code.
        last_message = last_code = rest = None
        try:
            for path, message, code in details:
                if rest is None or message != last_message or code != last_code:
                    code_json = "null" if code is None else enc(code)
                    rest = f',"detail":{enc(message)},"code":{code_json}}}'
                    last_message, last_code = message, code
                if not path or "/" in path or "~" in path:
                    path = pointer(path)
                else:
                    path = "#/" + path.replace(".", "/")
                add(f'{{"pointer":{enc(path)}{rest}')
        except (TypeError, AttributeError):  # not text (a number, say): the encoder decides
            return super().render_json(error, request)
        tail = f',"request_id":{value(error.request_id)}' if error.request_id else ""
        return (head + ',"errors":[' + ",".join(items) + "]" + tail + "}").encode()

    def _head(self, error: NormalizedError, request: HttpRequest | None) -> tuple[str, str]:
        """The members around ``detail`` (and ``instance``), as JSON: ``type``, ``title`` and
        ``status`` before, ``error_code`` and ``key`` after. They depend only on the entry,
        its title and the request's origin, so they are written once per such triple."""
        entry = error.entry
        title = entry.localized()[0] if error.title is None else error.title
        cacheable = type(self).type_uri is ProblemFormat.type_uri  # else: per request
        key = (self._origin_key(request) if request is not None else None, entry, title)
        head = self._heads.get(key) if cacheable else None
        if head is None:
            value = json_value
            head = (
                f'{{"type":{value(self.type_uri(error, request))},"title":{value(title)},'
                f'"status":{value(entry.status)},"detail":',
                f',"error_code":{value(entry.error_code)},"key":{value(entry.key)}',
            )
            heads = self._heads
            if cacheable and key[0] is not _NO_KEY:
                if len(heads) >= _MAX_HEADS:  # reloaded entries, hostile Host headers
                    heads.clear()
                heads[key] = head
        return head

    def type_uri(self, error: NormalizedError, request: HttpRequest | None) -> str:
        """The entry's page in the published dictionary, or about:blank if not served."""
        path = error.entry.type_path
        if path is None:
            return "about:blank"
        if request is not None:
            origin = self._origin(request)
            if origin is not None and _joins_plainly(path):
                return origin + path  # what build_absolute_uri(path) gives, without its cost
            try:
                return request.build_absolute_uri(path)
            except Exception:  # DisallowedHost: the error being rendered may be exactly that
                pass
        return path

    def _origin(self, request: HttpRequest) -> str | None:
        """``scheme://host`` of ``request``, validated as Django does (ALLOWED_HOSTS), once per
        distinct set of the headers that decide it: the host check and the URL parsing
        cost more than the rest of the body. None when the host is not allowed."""
        key = self._origin_key(request)
        if key is _NO_KEY:
            return None
        request = getattr(request, "_request", request)
        origins = self._origins
        origin = origins.get(key)
        if origin is None:
            try:
                origin = request.build_absolute_uri("/")[:-1]
            except Exception:  # DisallowedHost: never cached, the caller falls back
                return None
            if len(origins) >= _MAX_ORIGINS:  # hostile Host headers with ALLOWED_HOSTS "*"
                origins.clear()
            origins[key] = origin
        return origin

    def _origin_key(self, request: HttpRequest) -> Any:
        """What decides the request's scheme and host (its headers), as a dict key."""
        request = getattr(request, "_request", request)  # DRF's Request wraps Django's
        try:
            return (request._get_scheme(), *map(request.META.get, self._origin_headers))
        except Exception:  # a request object that is not Django's: no shortcut
            return _NO_KEY

    # Per format instance: clear_format_caches() drops them when a setting they depend on
    # (ALLOWED_HOSTS, USE_X_FORWARDED_HOST, ...) changes (signals.settings_changed).
    @cached_property
    def _origins(self) -> dict[tuple[Any, ...], str]:
        return {}

    @cached_property
    def _heads(self) -> dict[tuple[Any, ...], tuple[str, str]]:
        return {}

    @cached_property
    def _origin_headers(self) -> tuple[str, ...]:
        """The META keys that decide a request's scheme and host, under these settings."""
        keys = ["HTTP_HOST", "SERVER_NAME", "SERVER_PORT"]
        if settings.USE_X_FORWARDED_HOST:
            keys.append("HTTP_X_FORWARDED_HOST")
        if settings.USE_X_FORWARDED_PORT:
            keys.append("HTTP_X_FORWARDED_PORT")
        header = settings.SECURE_PROXY_SSL_HEADER
        if header:
            keys.append(str(header[0]))
        return tuple(keys)


_MAX_ORIGINS = 64
_MAX_HEADS = 512
_NO_KEY: Any = object()


def _joins_plainly(path: str) -> bool:
    """Whether build_absolute_uri() appends ``path`` to the origin as it is (its own test)."""
    return path[:1] == "/" and path[1:2] != "/" and "/./" not in path and "/../" not in path
