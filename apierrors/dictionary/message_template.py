"""Message templates such as ``Unknown {resource} resource '{id}'``, parsed and rendered safely.

Templates are edited by support staff, so they are never passed to ``str.format``: a template
like ``{0.__class__}`` or ``{user.password}`` would read attributes of the parameters. Only bare
named placeholders are allowed; they are validated on save and substituted by plain lookup.
"""

import string
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_formatter = string.Formatter()

# A parsed template: literal text and placeholder names, alternating; None where no placeholder.
ParsedTemplate = tuple[tuple[str, str | None], ...]


def parse_template(template: str) -> ParsedTemplate:
    """Split a template into (literal, placeholder) pairs; raise ValidationError if unsafe."""
    try:
        pieces = list(_formatter.parse(template))
    except ValueError as exc:
        raise ValidationError(
            _("The message template does not parse: %(error)s. Write a literal brace as {{ or }}."),
            code="template_syntax",
            params={"error": exc},
        ) from None
    parsed = []
    for literal, field, spec, conversion in pieces:
        if field is not None:
            if not field.isidentifier():
                raise ValidationError(
                    _(
                        "Placeholder {%(field)s} is not allowed: use a plain name such as "
                        "{resource}; attribute access, indexes and positional fields are refused."
                    ),
                    code="template_placeholder",
                    params={"field": field},
                )
            if spec or conversion:
                raise ValidationError(
                    _("Placeholder {%(field)s} may not carry a format spec or conversion."),
                    code="template_placeholder",
                    params={"field": field},
                )
        parsed.append((literal, field))
    return tuple(parsed)


def placeholders(template: str) -> list[str]:
    """The placeholder names of a valid template, in order."""
    return [field for _literal, field in parse_template(template) if field]


def render_template(parsed: ParsedTemplate, params: Mapping[str, Any]) -> str:
    """Fill a parsed template; a placeholder without a value stays visible as ``{name}``."""
    out = []
    for literal, field in parsed:
        out.append(literal)
        if field is not None:
            value = params.get(field)
            out.append("{" + field + "}" if value is None else str(value))
    return "".join(out)
