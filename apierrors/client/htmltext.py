"""The visible text and the title of an HTML error page, in one linear pass.

A proxy's 502 page is read for a one-line message, so this is no HTML parser: it only skips
what a browser would not show (comments, ``<script>``, ``<style>``, ``<head>``,
``<template>``) and drops the tags. Every search starts where the previous one ended and an
unclosed construct ends the scan (as it hides the rest of the page in a browser), so no input
makes it go back over text it has read: ``<!--`` or ``<script>`` repeated a million times
costs one pass, where lazy regular expressions (``<!--.*?-->``) retried the rest of the page
from every opener, which took minutes at a few hundred kilobytes.
"""

from __future__ import annotations

import html
import re

__all__ = ["html_text"]

# "<" opens markup only before a letter, "/", "!" or "?"; "a < b" and "<<<" are text.
_MARKUP = re.compile(r"<[a-zA-Z/!?]")
_NAME = re.compile(r"</?([a-zA-Z][^\s/<>]*)")
_RAW_END = {
    name: re.compile(rf"</{name}(?=[\s/>])", re.IGNORECASE) for name in ("script", "style", "title")
}
# Tags a browser keeps in <head>; any other tag, or visible text, ends the head (the HTML
# "in head" insertion mode), so an unclosed <head> does not hide the page.
_HEAD_TAGS = frozenset(
    {"base", "basefont", "bgsound", "head", "link", "meta", "noframes", "noscript"}
    | {"script", "style", "template", "title"}
)
_TAG = re.compile(r"<[^<>]*>")  # cannot span a "<": linear on a "<" flood


def _clean(text: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", text)).split())


def html_text(page: str, enough: int) -> tuple[str, str]:
    """(visible text, first title), each collapsed to single spaces and unescaped.

    Stops once the visible text is longer than ``enough`` characters.
    """
    parts: list[str] = []
    title = ""
    in_head = False
    templates = 0  # <template> content is inert, and templates nest
    seen, check_at = 0, enough
    pos, n = 0, len(page)
    while pos < n:
        match = _MARKUP.search(page, pos)
        lt = match.start() if match else n
        if lt > pos and not templates:
            chunk = page[pos:lt]
            if in_head and not chunk.isspace():
                in_head = False
            if not in_head:
                parts.append(chunk)
                seen += len(chunk)
                if seen > check_at:  # rarely: the check costs a join, so its bound doubles
                    if len(_clean(" ".join(parts))) > enough:
                        break
                    check_at *= 2
        if match is None:
            break
        if page.startswith("<!--", lt):
            if page.startswith(("<!-->", "<!--->"), lt):  # abruptly closed empty comments
                pos = page.index(">", lt) + 1
                continue
            end = page.find("-->", lt + 4)
            if end < 0:
                break  # an unclosed comment hides the rest of the page
            pos = end + 3
            continue
        name_match = _NAME.match(page, lt)
        if name_match is None:  # <!doctype>, <![CDATA[, <?xml ?>, </ >: skipped up to ">"
            end = page.find(">", lt + 2)
            if end < 0:
                break
            pos = end + 1
            continue
        end = page.find(">", name_match.end())
        if end < 0:
            break  # a tag cut off by the end of the page
        pos = end + 1
        parts.append(" ")  # a tag separates words: <td>a</td><td>b</td> reads "a b"
        name = name_match.group(1).lower()
        if page[lt + 1] == "/":
            if name == "head":
                in_head = False
            elif name == "template" and templates:
                templates -= 1
            continue
        if name == "template":
            templates += 1
            continue
        if name in _RAW_END:  # script, style and title content is not markup
            close = _RAW_END[name].search(page, pos)
            stop = close.start() if close else n
            if name == "title" and not title and not templates:
                title = _clean(page[pos:stop])
            if close is None:
                break  # unclosed: the rest of the page is script (or title)
            pos = stop
            continue
        if name == "head":
            in_head = True
        elif in_head and name not in _HEAD_TAGS:
            in_head = False
    return _clean(" ".join(parts)), title
