"""ShipStream's ``errors`` envelope."""

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest

from ..dictionary.catalog import Entry
from ..handling.normalized import NormalizedError
from .base import ErrorFormat, error_code_enum, json_string, json_value

_STRING = {"type": "string"}


class ShipStreamFormat(ErrorFormat):
    name = "shipstream"
    media_type = "application/json"
    openapi_name = "ShipStreamErrors"
    openapi_schema = {
        "type": "object",
        "description": "ShipStream's errors envelope.",
        "required": ["errors"],
        "properties": {
            "errors": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["type", "message"],
                    "properties": {
                        "type": _STRING,
                        "error_code": {"type": "integer"},
                        "message": _STRING,
                        "details": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["key", "message"],
                                "properties": {"key": _STRING, "message": _STRING},
                            },
                        },
                        "request_id": _STRING,
                    },
                },
            }
        },
    }
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

    def openapi_constraint(self, entries: Sequence[Entry]) -> dict[str, Any]:
        return {
            "properties": {
                "errors": {"items": {"properties": {"error_code": error_code_enum(entries)}}}
            }
        }

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
