"""ShipStream's ``errors`` envelope."""

from typing import Any

from django.http import HttpRequest

from ..handling.normalized import NormalizedError
from .base import ErrorFormat, json_string, json_value


class ShipStreamFormat(ErrorFormat):
    name = "shipstream"
    media_type = "application/json"
    # ShipStream names OpenAPI request-validation errors type "openapi"; others use the key.
    type_by_key = {"openapi_validation": "openapi"}

    def render(self, error: NormalizedError, request: HttpRequest | None) -> dict[str, Any]:
        entry = error.entry
        item: dict[str, Any] = {
            "type": self.type_by_key.get(entry.key, entry.key),
            "error_code": entry.error_code,
            "message": error.message,
        }
        if error.details:
            item["details"] = [{"key": d.path, "message": d.message} for d in error.details]
        if error.request_id:
            item["request_id"] = error.request_id
        return {"errors": [item]}

    def render_json(self, error: NormalizedError, request: HttpRequest | None) -> bytes:
        """``render()``'s bytes, with ``details`` written directly (one string per detail)."""
        if type(self).render is not ShipStreamFormat.render:  # a subclass changed the body
            return super().render_json(error, request)
        entry = error.entry
        head = json_value(
            {
                "type": self.type_by_key.get(entry.key, entry.key),
                "error_code": entry.error_code,
                "message": error.message,
            }
        )[:-1]
        parts = ['{"errors":[', head]
        if error.details:
            enc = json_string
            try:
                parts.append(
                    ',"details":['
                    + ",".join(
                        f'{{"key":{enc(path)},"message":{enc(message)}}}'
                        for path, message, _code in error.details
                    )
                    + "]"
                )
            except TypeError:  # a message or path that isn't text: the encoder decides
                return super().render_json(error, request)
        if error.request_id:
            parts.append(f',"request_id":{json_value(error.request_id)}')
        parts.append("}]}")
        return "".join(parts).encode()
