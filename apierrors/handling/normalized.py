"""The normalized error: what every failure becomes before a format renders it."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.core.exceptions import NON_FIELD_ERRORS
from rest_framework.exceptions import ErrorDetail
from rest_framework.settings import api_settings

from ..dictionary.catalog import Entry


class Detail(NamedTuple):
    """A field- or part-level problem: ``path`` is dotted (``items.0.email``), "" for the whole."""

    path: str
    message: str
    code: str | None = None


@dataclass(slots=True)
class NormalizedError:
    entry: Entry
    message: str
    details: list[Detail] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    # Set on 5xx responses, so the body can be matched to the logged traceback.
    request_id: str | None = None
    # The request path (RFC 9457 "instance").
    instance: str | None = None
    # The entry's title in the response's language, if the handler looked it up already
    # (with the message: one language lookup); formats fall back to entry.localized().
    title: str | None = None

    @property
    def status(self) -> int:
        return self.entry.status


_NON_FIELD_KEYS = frozenset({api_settings.NON_FIELD_ERRORS_KEY, NON_FIELD_ERRORS})


def flatten_errors(errors: Any, prefix: str = "") -> list[Detail]:
    """Flatten DRF/Django error structures into details with dotted paths, in input order.

    Handles nested serializers (``{"address": {"city": [...]}}``), list fields, DRF ≤ 3.17
    list-serializer errors (``[{}, {"email": [...]}]``) and DRF 3.18's dict form
    (``{0: {"email": [...]}}``). Linear in the number of nodes, and a long list costs a
    fixed small amount per item (one pass, no per-item call for the usual two levels): a
    1,000-item list error is the case that must stay fast.
    """
    details: list[Detail] = []
    _walk(errors, prefix, details)
    return details


_new_tuple = tuple.__new__  # Detail(...) minus NamedTuple's Python-level __new__


def _walk(node: Any, path: str, details: list[Detail]) -> None:
    append = details.append
    if isinstance(node, str):  # ErrorDetail is a str with a .code
        append(_new_tuple(Detail, (path, str(node), getattr(node, "code", None))))
    elif isinstance(node, (dict, Mapping)):  # dict first: the cheap check
        skip = _NON_FIELD_KEYS
        dot = path + "." if path else ""
        for key, child in node.items():
            child_path = path if key in skip else f"{dot}{key}"
            if type(child) is not dict:
                if type(child) is not list or not _messages(child, child_path, details):
                    _walk(child, child_path, details)
                continue
            # A list serializer's item or a nested serializer: its fields' message lists are
            # handled here, saving two calls per item of a long list.
            for key2, messages in child.items():
                if type(messages) is list and key2 not in skip:
                    field_path = f"{child_path}.{key2}" if child_path else f"{key2}"
                    for item in messages:
                        if item.__class__ is ErrorDetail:  # DRF's, the usual: the cheap way
                            append(_new_tuple(Detail, (field_path, str(item), item.code)))
                        elif isinstance(item, str):
                            append(
                                _new_tuple(
                                    Detail, (field_path, str(item), getattr(item, "code", None))
                                )
                            )
                        else:  # not a list of messages after all: undo, go the long way
                            if done := next(i for i, x in enumerate(messages) if x is item):
                                del details[-done:]
                            break
                    else:
                        continue
                _walk({key2: messages}, child_path, details)
    elif isinstance(node, list | tuple):
        if _messages(node, path, details):
            return
        # A list of per-item errors; empty dicts mark valid items.
        dot = path + "." if path else ""
        for index, child in enumerate(node):
            if child:
                _walk(child, f"{dot}{index}", details)
    elif node is not None:
        append(_new_tuple(Detail, (path, str(node), None)))


def _messages(items: list[Any] | tuple[Any, ...], path: str, details: list[Detail]) -> bool:
    """A field's list of messages, all at the field's path; False (and nothing added) if
    ``items`` holds anything but strings."""
    start, append = len(details), details.append
    for item in items:
        if not isinstance(item, str):
            del details[start:]
            return False
        append(_new_tuple(Detail, (path, str(item), getattr(item, "code", None))))
    return True


def details_from_pairs(pairs: Iterable[Any]) -> list[Detail]:
    """Accept details given by users as Detail, (path, message[, code]) or mappings."""
    out = []
    for item in pairs:
        if isinstance(item, Detail):
            out.append(item)
        elif isinstance(item, Mapping):
            out.append(
                Detail(str(item.get("path", "")), str(item.get("message", "")), item.get("code"))
            )
        else:
            out.append(Detail(*(str(p) if p is not None else None for p in item)))
    return out
