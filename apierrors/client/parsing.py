"""Turning an error body in any apierrors format (or none) into one normalized record.

Nothing here may raise on a hostile body: error reporting must never fail with a decoding
error or a KeyError of its own.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from .htmltext import html_text

__all__ = ["TEXT_SCAN_BYTES", "ParsedBody", "parse_body", "pointer_to_path"]

TEXT_LIMIT = 200
#: How much of an HTML or plain-text body is read for the message: error pages put it near
#: the top, and a hostile one gains nothing by being longer.
TEXT_SCAN_BYTES = 256 * 1024
_REQUEST_ID = re.compile(r"request[_-]?id\s*[=:]\s*([^\s;,]+)", re.IGNORECASE)
# ASCII digits only: str.isdigit() accepts "²", int() other scripts' digits and "1_0".
# Eighteen digits fit a signed 64-bit integer; more is no error code (and int() refuses 4,301).
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
# Codecs Python has that are no charset: punycode decodes in quadratic time, and the rest
# turn "\\u00e9" or "xn--" sequences in a body into other text.
_NOT_CHARSETS = frozenset({"idna", "punycode", "raw_unicode_escape", "unicode_escape", "undefined"})
_GENERIC_MESSAGE_KEYS = ("message", "detail", "error_description", "error", "title", "description")


@dataclass
class ParsedBody:
    """What could be read from a body; every field may be missing."""

    format: str | None = None
    message: str | None = None
    title: str | None = None
    error_code: int | None = None
    key: str | None = None
    request_id: str | None = None
    details: list[tuple[str, str]] = field(default_factory=list)
    data: Any = None


def _str(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):  # True is an int to Python, never an error code
        return None
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return value
    return None


def _list(value: Any) -> list[Any]:
    """A JSON member that should be an array: anything else (5, true, "x", {}) is none."""
    return value if isinstance(value, list) else []


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _truncate(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1].rstrip() + "…"


def pointer_to_path(pointer: str) -> str:
    """``#/items/0/email`` (a JSON pointer, optionally a URI fragment) -> ``items.0.email``."""
    if pointer.startswith("#"):
        pointer = unquote(pointer[1:])  # the fragment form percent-encodes (RFC 6901 §6)
    tokens = pointer.split("/")
    if tokens and tokens[0] == "":
        tokens = tokens[1:]
    # ~1 before ~0, so that "~01" becomes "~1" and not "/" (RFC 6901 §4).
    return ".".join(t.replace("~1", "/").replace("~0", "~") for t in tokens)


def _fhir(data: dict[str, Any]) -> ParsedBody:
    issues = [i for i in _list(data.get("issue")) if isinstance(i, dict)]
    message = None
    details: list[tuple[str, str]] = []
    request_id = None
    for issue in issues:
        info = issue.get("details")
        text = _str(info.get("text")) if isinstance(info, dict) else None
        diagnostics = _str(issue.get("diagnostics"))
        if diagnostics:
            match = _REQUEST_ID.search(diagnostics)
            if match:
                request_id = request_id or match.group(1)
            elif text is None:
                text = diagnostics
        text = text or _str(issue.get("code")) or ""
        paths = issue.get("expression") or issue.get("location")
        paths = [p for p in paths if isinstance(p, str)] if isinstance(paths, list) else []
        if paths:
            details.extend((p, text) for p in paths)
        elif message is None and text:
            message = text  # the first issue without a path is the error's own message
        elif text:
            details.append(("", text))  # a later one is about the request as a whole
    # A response that is only field errors has no general issue: its first issue speaks.
    message = message or (details[0][1] if details else None)
    return ParsedBody("fhir", message=message or None, request_id=request_id, details=details)


def _problem(data: dict[str, Any]) -> ParsedBody:
    title = _str(data.get("title"))
    key = _str(data.get("key"))
    type_ = _str(data.get("type"))
    if key is None and type_ and type_ != "about:blank":
        # The type URL is the code's page in the published dictionary: .../errors/<key>/
        try:
            url_path = urlsplit(type_).path
        except ValueError:  # "http://[::1/x": an unbalanced IPv6 bracket
            url_path = ""
        segments = [s for s in url_path.split("/") if s]
        key = unquote(segments[-1]) if segments else None
    details = []
    for item in _list(data.get("errors")):
        if not isinstance(item, dict):
            continue
        pointer = _str(item.get("pointer"))
        path = pointer_to_path(pointer) if pointer else _str(item.get("field")) or ""
        text = _str(item.get("detail")) or _str(item.get("message")) or ""
        details.append((path, text))
    return ParsedBody(
        "problem",
        message=_str(data.get("detail")) or title,
        title=title,
        error_code=_int(data.get("error_code")),
        key=key,
        request_id=_str(data.get("request_id")),
        details=details,
    )


def _shipstream(data: dict[str, Any]) -> ParsedBody:
    errors = _list(data.get("errors"))
    entries = [e for e in errors if isinstance(e, dict)]
    first = entries[0] if entries else {}
    type_ = _str(first.get("type"))
    details = []
    for entry in entries:
        for item in _list(entry.get("details")):
            if isinstance(item, dict):
                details.append((_str(item.get("key")) or "", _str(item.get("message")) or ""))
    strings = [s for s in errors if isinstance(s, str)]
    return ParsedBody(
        "shipstream",
        message=_str(first.get("message")) or ("; ".join(strings) or None),
        error_code=_int(first.get("error_code")),
        # "openapi" names the validation step, not a dictionary key; the header has the key.
        key=type_ if type_ != "openapi" else None,
        request_id=_str(first.get("request_id")) or _str(data.get("request_id")),
        details=details,
    )


def _docplanner(data: dict[str, Any]) -> ParsedBody:
    return ParsedBody("docplanner", error_code=_int(data.get("error_code")))


def _field_errors(value: Any, prefix: str, depth: int = 0) -> list[tuple[str, str]]:
    """DRF's default ``{"field": ["message"], "nested": {"f": [...]}}`` shape."""
    out: list[tuple[str, str]] = []
    if depth > 10:
        return out
    if isinstance(value, str):
        out.append((prefix, value))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            sub = prefix if isinstance(item, str) else f"{prefix}.{i}".lstrip(".")
            out.extend(_field_errors(item, sub, depth + 1))
    elif isinstance(value, dict):
        for k, v in value.items():
            out.extend(_field_errors(v, f"{prefix}.{k}".lstrip("."), depth + 1))
    return out


def _generic(data: Any) -> ParsedBody:
    if isinstance(data, str):
        return ParsedBody("json", message=_str(data), data=data)
    if isinstance(data, list):
        strings = [s.strip() for s in data if isinstance(s, str) and s.strip()]
        return ParsedBody("json", message="; ".join(strings) or None)
    if not isinstance(data, dict):
        return ParsedBody("json")
    message = None
    for name in _GENERIC_MESSAGE_KEYS:
        value = data.get(name)
        if isinstance(value, dict):
            value = value.get("message")
        message = _str(value)
        if message:
            break
    details = []
    if message is None:
        details = _field_errors(data, "")
    return ParsedBody(
        "json",
        message=message,
        error_code=_int(data.get("error_code")) or _int(data.get("code")),
        request_id=_str(data.get("request_id")),
        details=details,
    )


def _detect(data: Any) -> str:
    if not isinstance(data, dict):
        return "json"
    if data.get("resourceType") == "OperationOutcome":
        return "fhir"
    if "title" in data or (isinstance(data.get("type"), str) and "status" in data):
        return "problem"
    if isinstance(data.get("errors"), list):
        return "shipstream"
    if "error_code" in data and len(data) == 1:
        return "docplanner"
    return "json"


_PARSERS = {
    "fhir": _fhir,
    "problem": _problem,
    "shipstream": _shipstream,
    "docplanner": _docplanner,
}


def _media_type(content_type: str | None) -> tuple[str, str | None]:
    if not content_type:
        return "", None
    media, _, params = content_type.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"') or None
    return media.strip().lower(), charset


def _codec(charset: str | None) -> str | None:
    """The codec a declared charset names, or None when it names no usable charset."""
    if not charset:
        return None
    try:
        info = codecs.lookup(charset)
    except (LookupError, ValueError, TypeError):  # unknown, or "\\x00" in the name
        return None
    # rot13 and base64 are codecs but not text encodings.
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None
    return info.name


def _decode(body: bytes, charset: str | None) -> str:
    codec = _codec(charset)
    if codec:
        try:
            return body.decode(codec, errors="replace")
        except (LookupError, ValueError, TypeError):
            pass
    return body.decode("utf-8", errors="replace")


def _json_text(body: bytes, charset: str | None) -> bytes | str:
    """JSON is UTF-8 (RFC 8259), but a server that declares another charset means it."""
    codec = _codec(charset)
    if codec and codec not in ("utf-8", "utf-16", "utf-32"):
        try:
            return body.decode(codec)
        except (LookupError, ValueError):  # UnicodeDecodeError is a ValueError
            return body
    return body


def _html_text(text: str) -> str | None:
    visible, title = html_text(text, TEXT_LIMIT)
    visible = visible or title
    return _truncate(visible) if visible else None


def parse_body(body: bytes, content_type: str | None) -> ParsedBody:
    """Read ``body`` by its content type first and its shape second."""
    if not body or not body.strip():
        return ParsedBody()
    media, charset = _media_type(content_type)
    json_media = media in ("application/json", "text/json") or media.endswith("+json")
    head = body.lstrip()[:1]
    if json_media or head in (b"{", b"["):
        try:
            data = json.loads(_json_text(body, charset))
        except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError
            pass
        else:
            name = _detect(data)
            # Every problem member is optional, so its content type decides unless the body
            # plainly is an OperationOutcome.
            if (
                media == "application/problem+json"
                and name != "fhir"
                and isinstance(data, dict)
                and any(k in data for k in ("type", "title", "status", "detail", "instance"))
            ):
                name = "problem"
            parsed = _PARSERS[name](data) if name in _PARSERS else _generic(data)
            parsed.data = data
            return parsed
    text = _decode(body[:TEXT_SCAN_BYTES], charset)
    sniff = text.lstrip()[:256].lower()
    if media in ("text/html", "application/xhtml+xml") or sniff.startswith(("<!doctype", "<html")):
        return ParsedBody("html", message=_html_text(text))
    return ParsedBody("text", message=_truncate(_collapse(text)) or None)
