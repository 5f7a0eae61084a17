"""FHIR R4 OperationOutcome, as Canvas Medical's API answers."""

from typing import Any

from django.http import HttpRequest

from ..handling.normalized import NormalizedError
from .base import (
    LONG_LIST,
    ErrorFormat,
    alike,
    json_string,
    json_value,
    spliced_paths,
)

# Field-level DRF/Django codes with a more precise FHIR IssueType than the entry's own.
_DETAIL_CODES = {
    "required": "required",
    "null": "required",
    "blank": "required",
    "max_length": "too-long",
    "unique": "duplicate",
    "invalid_choice": "code-invalid",
}


_DETAIL_CODES_JSON = {key: json_string(code) for key, code in _DETAIL_CODES.items()}


class FhirFormat(ErrorFormat):
    name = "fhir"
    media_type = "application/fhir+json"
    openapi_name = "OperationOutcome"

    @property
    def openapi_schema(self) -> dict[str, Any]:  # type: ignore[override]
        """Built when asked: the issue codes are the model's, and need the app registry."""
        from ..models import FHIR_ISSUE_TYPES, FHIR_SEVERITIES

        string = {"type": "string"}
        issue = {
            "type": "object",
            "required": ["severity", "code"],
            "properties": {
                "severity": {"type": "string", "enum": list(FHIR_SEVERITIES)},
                "code": {"type": "string", "enum": list(FHIR_ISSUE_TYPES)},
                "details": {"type": "object", "properties": {"text": string}},
                "expression": {"type": "array", "items": string},
                "diagnostics": string,
            },
        }
        return {
            "type": "object",
            "description": "FHIR R4 OperationOutcome; one issue per field error.",
            "required": ["resourceType", "issue"],
            "properties": {
                # A pattern, not a one-value enum: drf-spectacular's enum hook would lift that
                # into a component of its own.
                "resourceType": {"type": "string", "pattern": "^OperationOutcome$"},
                "issue": {"type": "array", "minItems": 1, "items": issue},
            },
        }

    def render(self, error: NormalizedError, request: HttpRequest | None) -> dict[str, Any]:
        entry = error.entry
        # The entry's own message always leads (support staff edit it); field errors follow,
        # one issue each, with the field's path as the FHIRPath ``expression``.
        summary: dict[str, Any] = {
            "severity": entry.severity,
            "code": entry.fhir_code,
            "details": {"text": error.message},
        }
        if error.request_id:
            summary["diagnostics"] = f"request_id={error.request_id}"
        issues = [summary]
        for detail in error.details:
            issue: dict[str, Any] = {
                "severity": entry.severity,
                "code": _DETAIL_CODES.get(detail.code or "", entry.fhir_code),
                "details": {"text": detail.message},
            }
            if detail.path:
                issue["expression"] = [detail.path]
            issues.append(issue)
        return {"resourceType": "OperationOutcome", "issue": issues}

    def render_json(self, error: NormalizedError, request: HttpRequest | None) -> bytes:
        """``render()``'s bytes, written directly: one string per issue instead of three
        containers for the encoder to walk (the difference at 1,000 field errors)."""
        if type(self).render is not FhirFormat.render:  # a subclass changed the body
            return super().render_json(error, request)
        entry, enc = error.entry, json_string
        head = f'"severity":{json_value(entry.severity)},"code":'  # inside the issue's {}
        default_code = json_value(entry.fhir_code)
        summary = f'{head}{default_code},"details":{{"text":{json_value(error.message)}}}'
        if error.request_id:
            summary += f',"diagnostics":{json_value(f"request_id={error.request_id}")}'
        issues = [summary]
        add, codes = issues.append, _DETAIL_CODES_JSON
        details = error.details
        try:
            if len(details) >= LONG_LIST and (same := alike(details)) is not None:
                # Every item fails alike: one shared issue, each item's path spliced in.
                message, code = same
                code_json = codes.get(code, default_code) if code else default_code
                issue = f'{head}{code_json},"details":{{"text":{enc(message)}}},"expression":["'
                paths = spliced_paths(details, '"]},{' + issue)
                if paths is not None:
                    add(issue + paths + '"]')
                    details = ()
        except TypeError:  # a message or path that isn't text: the encoder decides
            return super().render_json(error, request)
        # A list's items usually repeat one message and code: the issue up to its expression
        # is written once per run of equal ones (no hashing), then only the path per item.
        last_message = last_code = issue = None
        try:
            for path, message, code in details:
                if issue is None or message != last_message or code != last_code:
                    code_json = codes.get(code, default_code) if code else default_code
                    issue = f'{head}{code_json},"details":{{"text":{enc(message)}}}'
                    last_message, last_code = message, code
                add(f'{issue},"expression":[{enc(path)}]' if path else issue)
        except TypeError:  # a message or path that isn't text: the encoder decides
            return super().render_json(error, request)
        return (
            '{"resourceType":"OperationOutcome","issue":[{' + "},{".join(issues) + "}]}"
        ).encode()
