"""The ``Accept`` header, read as RFC 9110 (§12.4.2, §12.5.1) says, in bounded time.

A media range's weight is its ``q`` (default 1; ``q=0`` means "not acceptable"); a media
type gets the weight of the *most specific* range that matches it: ``type/subtype`` with
parameters, then ``type/subtype``, then ``type/*``, then ``*/*``. One extension, for JSON
error bodies: ``application/json`` also matches a ``+json`` type (RFC 6839's structured
syntax suffix), less specifically than naming that type, so ``Accept: application/json``
accepts a problem+json body while ``application/problem+json;q=0`` still refuses it.

Work per header is linear in its length and what is looked at is capped (``MAX_RANGES``
ranges, ``MAX_PARAMS`` parameters each, ``MAX_QUOTED`` quoted strings): a 64 KB header
costs one split, not one parse per element.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

# No client sends more; the rest of a longer header (or range) is not looked at.
MAX_RANGES = 64
MAX_PARAMS = 16
MAX_QUOTED = 4 * MAX_RANGES

_QVALUE = re.compile(r"0(?:\.[0-9]*)?|1(?:\.0*)?")
_COMMA_OR_QUOTE = re.compile(r'[,"]')
# The rest of a quoted string after its opening quote (the unrolled loop: linear, even
# when the closing quote is missing).
_QUOTED_REST = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


class MediaRange(NamedTuple):
    type: str
    subtype: str
    has_params: bool  # media type parameters besides q: a more specific range
    q: float


def parse_accept(header: str, max_ranges: int = MAX_RANGES) -> list[MediaRange]:
    """The well-formed ranges of ``header`` (at most ``max_ranges``); others are skipped."""
    ranges = []
    for element in _elements(header, max_ranges):
        media, _, params = element.partition(";")
        type_, slash, subtype = media.strip().lower().partition("/")
        if not slash or not type_ or not subtype or (type_ == "*" and subtype != "*"):
            continue
        q: float | None = 1.0
        has_params = False
        if params:
            for param in params.split(";", MAX_PARAMS)[:MAX_PARAMS]:
                name, _, value = param.partition("=")
                name = name.strip().lower()
                if name == "q":
                    value = value.strip()
                    q = float(value) if _QVALUE.fullmatch(value) else None
                    break  # what follows q are accept-extensions, not media type parameters
                if name:
                    has_params = True
        if q is not None:  # a range with a malformed weight is ignored, not taken as q=1
            ranges.append(MediaRange(type_, subtype, has_params, q))
    return ranges


def _elements(header: str, limit: int) -> list[str]:
    """The comma-separated elements of ``header``, commas inside quoted strings kept."""
    if '"' not in header:  # the usual case
        elements = header.split(",", limit)
        return elements[:limit]
    elements, start, at, quoted_strings = [], 0, 0, 0
    while len(elements) < limit and quoted_strings < MAX_QUOTED:
        match = _COMMA_OR_QUOTE.search(header, at)
        if match is None:
            elements.append(header[start:])
            break
        if match.group() == ",":
            elements.append(header[start : match.start()])
            start = at = match.end()
            continue
        quoted = _QUOTED_REST.match(header, match.end())
        if quoted is None:  # an unterminated quoted string runs to the end
            elements.append(header[start:])
            break
        at = quoted.end()
        quoted_strings += 1
    return elements


def quality(ranges: Iterable[MediaRange], media_type: str) -> float | None:
    """The weight ``ranges`` give ``media_type`` (``type/subtype``), None if none matches."""
    type_, _, subtype = media_type.partition(";")[0].strip().lower().partition("/")
    best, best_q = -1, None
    for r in ranges:
        if r.type == "*":
            specificity = 0  # */*
        elif r.type != type_:
            continue
        elif r.subtype == "*":
            specificity = 1
        elif r.subtype == subtype:
            specificity = 4 if r.has_params else 3
        elif r.subtype == "json" and subtype.endswith("+json"):
            specificity = 2
        else:
            continue
        if specificity > best:  # the first of equally specific ranges counts
            best, best_q = specificity, r.q
    return best_q


def preferred(ranges: Sequence[MediaRange], offers: Sequence[tuple[str, str]]) -> str | None:
    """The name of the acceptable offer (``(name, media type)``, in the server's order of
    preference) with the highest weight; ties go to the earlier offer. None if the header
    accepts none of them."""
    chosen, chosen_q = None, 0.0
    for name, media_type in offers:
        q = quality(ranges, media_type)
        if q is not None and q > chosen_q:
            chosen, chosen_q = name, q
    return chosen
