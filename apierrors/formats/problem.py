"""RFC 9457 problem details, with the dictionary's ``error_code`` and field ``errors``."""

from functools import cached_property
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from ..normalized import NormalizedError
from .base import (
    LONG_LIST,
    ErrorFormat,
    alike,
    json_string,
    json_value,
    spliced_paths,
)


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

    def render_json(self, error: NormalizedError, request: HttpRequest | None) -> bytes:
        """``render()``'s bytes, with the ``errors`` list written directly (one string per
        field error instead of a dict for the encoder to walk)."""
        if type(self).render is not ProblemFormat.render:  # a subclass changed the body
            return super().render_json(error, request)
        entry, value = error.entry, json_value
        title = entry.localized()[0] if error.title is None else error.title
        # The members written directly too: a dict for the encoder costs more than the rest.
        head = (f'{{"type":{json_string(self.type_uri(error, request))},'
                f'"title":{value(title)},"status":{value(entry.status)},'
                f'"detail":{value(error.message)}')
        if error.instance:
            head += f',"instance":{value(error.instance)}'
        head += f',"error_code":{value(entry.error_code)},"key":{value(entry.key)}'
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
        request = getattr(request, "_request", request)  # DRF's Request wraps Django's
        try:
            key = (request._get_scheme(), *map(request.META.get, self._origin_headers))
        except Exception:  # a request object that is not Django's: no shortcut
            return None
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

    # Per format instance: clear_format_caches() drops both when a setting they depend on
    # (ALLOWED_HOSTS, USE_X_FORWARDED_HOST, ...) changes (signals.settings_changed).
    @cached_property
    def _origins(self) -> dict[tuple[Any, ...], str]:
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


def _joins_plainly(path: str) -> bool:
    """Whether build_absolute_uri() appends ``path`` to the origin as it is (its own test)."""
    return (path[:1] == "/" and path[1:2] != "/" and "/./" not in path
            and "/../" not in path)
