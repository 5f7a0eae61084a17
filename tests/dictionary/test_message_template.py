"""Admin-edited message templates are parsed safely and never evaluated."""

import pytest
from django.core.exceptions import ValidationError

from apierrors.dictionary.message_template import parse_template, placeholders, render_template


def render(template: str, **params) -> str:
    return render_template(parse_template(template), params)


def test_named_placeholders_are_filled():
    assert render("Unknown {resource} resource '{id}'", resource="Patient", id="a47c") == (
        "Unknown Patient resource 'a47c'"
    )


def test_missing_param_stays_visible():
    assert render("Unknown {resource} resource '{id}'", resource="Patient") == (
        "Unknown Patient resource '{id}'"
    )


def test_literal_braces():
    assert render("Use {{braces}} for {thing}", thing="x") == "Use {braces} for x"


def test_placeholder_names():
    assert placeholders("{a} and {b} and {a}") == ["a", "b", "a"]


@pytest.mark.parametrize(
    "template",
    [
        "{0.__class__}",
        "{resource.__class__.__mro__}",
        "{id[0]}",
        "{0}",
        "{}",
        "{resource!r}",
        "{resource:>{width}}",
        "unbalanced {",
        "unbalanced }",
    ],
)
def test_unsafe_or_broken_templates_are_refused(template):
    with pytest.raises(ValidationError):
        parse_template(template)


def test_values_are_not_formatted_as_templates():
    """A parameter that itself looks like a template is inserted as text."""
    assert render("Hello {name}", name="{0.__class__}") == "Hello {0.__class__}"


def test_attribute_access_is_never_evaluated():
    class Secret:
        password = "hunter2"

        def __str__(self):
            return "Secret"

    assert render("{obj}", obj=Secret()) == "Secret"
