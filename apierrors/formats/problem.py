"""RFC 9457 problem details, with the dictionary's ``error_code`` and field ``errors``."""

from typing import Any

from django.http import HttpRequest

from ..normalized import NormalizedError
from .base import EncodedTexts, ErrorFormat, json_string, json_value


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
            "title": entry.localized()[0],
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
        entry = error.entry
        head: dict[str, Any] = {
            "type": self.type_uri(error, request),
            "title": entry.localized()[0],
            "status": entry.status,
            "detail": error.message,
        }
        if error.instance:
            head["instance"] = error.instance
        head["error_code"] = entry.error_code
        head["key"] = entry.key
        enc, pointer = json_string, json_pointer
        items = []
        add = items.append
        texts = EncodedTexts()
        try:
            for path, message, code in error.details:
                text = texts[message]
                code_json = "null" if code is None else enc(code)
                add(f'{{"pointer":{enc(pointer(path))},"detail":{text},"code":{code_json}}}')
        except (TypeError, AttributeError):  # not text (a number, say): the encoder decides
            return super().render_json(error, request)
        tail = f',"request_id":{json_value(error.request_id)}' if error.request_id else ""
        return (json_value(head)[:-1] + ',"errors":[' + ",".join(items) + "]" + tail
                + "}").encode()

    def type_uri(self, error: NormalizedError, request: HttpRequest | None) -> str:
        """The entry's page in the published dictionary, or about:blank if not served."""
        path = error.entry.type_path
        if path is None:
            return "about:blank"
        if request is not None:
            try:
                return request.build_absolute_uri(path)
            except Exception:  # DisallowedHost: the error being rendered may be exactly that
                pass
        return path
