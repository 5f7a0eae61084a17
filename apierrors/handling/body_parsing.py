"""A request body too deeply nested to parse is the client's fault, not a bug.

Python's JSON decoder (and most parsers) recurse once per nesting level, so a body nested
deeper than the interpreter allows (1,000 arrays, 2 KB, on Python 3.11; about 10,000 on 3.12+,
whose C decoder has a limit of its own) raises ``RecursionError`` inside DRF's parser, which
only turns ``ValueError`` into ``ParseError``. That error is answered 400 ``parse_error``
here, but only when it was raised while DRF parsed the body (``Request._parse`` is on its
traceback): a ``RecursionError`` from a bug anywhere else stays a 500, logged and reported.
"""

from __future__ import annotations

from types import CodeType

from rest_framework.exceptions import ParseError
from rest_framework.request import Request

NESTED_TOO_DEEPLY = "The request body is nested too deeply to be parsed."

_PARSE_CODE: CodeType = Request._parse.__code__


def raised_while_parsing(exc: BaseException) -> bool:
    """Whether ``exc`` propagated out of DRF's body parsing (``request.data``)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code is _PARSE_CODE:
            return True
        tb = tb.tb_next
    return False


def as_client_error(exc: BaseException) -> BaseException:
    """``exc``, or the ``ParseError`` it means when the request body caused it."""
    if isinstance(exc, RecursionError) and raised_while_parsing(exc):
        parse_error = ParseError(NESTED_TOO_DEEPLY)
        parse_error.__cause__ = exc
        return parse_error
    return exc
