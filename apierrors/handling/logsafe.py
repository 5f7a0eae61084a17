"""Request data in log lines, with control characters escaped.

``request.path`` is percent-decoded, so ``/api/%0A2026-01-01 ERROR forged`` puts a newline
(a forged log line) in anything that logs it raw. Control characters (C0, DEL, C1) and the
Unicode line and paragraph separators are written as Python escapes (``\\n``, ``\\x1b``,
``\\u2028``); everything else, non-ASCII letters included, stays readable. A backslash is
doubled so an escape in the log always means an escaped character.
"""

from __future__ import annotations

_ESCAPES: dict[int, str] = {
    code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    for code in (*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029)
}
_ESCAPES.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", ord("\\"): "\\\\"})

# A path is bounded by the server (64 KB at most); a log line needs far less.
MAX_LENGTH = 2048


def log_safe(value: object, max_length: int = MAX_LENGTH) -> str:
    """``value`` as text fit for one log line: escaped, and cut at ``max_length``."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= max_length:
        return text.translate(_ESCAPES)
    return f"{text[:max_length].translate(_ESCAPES)}…[{len(text)} chars]"
