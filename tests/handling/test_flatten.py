"""Validation errors become dotted-path details, in input order (speed: manage.py bench_errors)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from apierrors.handling.normalized import Detail, flatten_errors


class ItemSerializer(serializers.Serializer):
    email = serializers.EmailField()
    quantity = serializers.IntegerField(min_value=1)


class OrderSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=4)
    items = ItemSerializer(many=True)


def item_errors(count: int) -> object:
    """DRF's own ListSerializer errors for ``count`` items, each with one bad field."""
    serializer = ItemSerializer(data=[{"email": "a@b.co", "quantity": 0}] * count, many=True)
    assert not serializer.is_valid()
    return serializer.errors


def reference_flatten(node: object, path: str = "") -> list[tuple[str, str, object]]:
    """The rules, written plainly (recursive), to check the fast version against."""
    if isinstance(node, str):
        return [(path, str(node), getattr(node, "code", None))]
    if isinstance(node, dict):
        out = []
        for key, child in node.items():
            child_path = (
                path
                if key in ("non_field_errors", "__all__")
                else (f"{path}.{key}" if path else str(key))
            )
            out += reference_flatten(child, child_path)
        return out
    if isinstance(node, list | tuple):
        if all(isinstance(item, str) for item in node):
            return [(path, str(item), getattr(item, "code", None)) for item in node]
        out = []
        for index, child in enumerate(node):
            if child:
                out += reference_flatten(child, f"{path}.{index}" if path else str(index))
        return out
    return [] if node is None else [(path, str(node), None)]


def test_nested_serializer_errors_have_dotted_paths_in_input_order():
    serializer = OrderSerializer(
        data={
            "reference": "too long",
            "items": [
                {"email": "ok@example.org", "quantity": 1},
                {"email": "nope", "quantity": 0},
            ],
        }
    )
    assert not serializer.is_valid()
    details = flatten_errors(serializer.errors)
    assert details == [
        Detail("reference", "Ensure this field has no more than 4 characters.", "max_length"),
        Detail("items.1.email", "Enter a valid email address.", "invalid"),
        Detail("items.1.quantity", "Ensure this value is greater than or equal to 1.", "min_value"),
    ]
    assert all(type(d) is Detail and type(d.message) is str for d in details)


def test_non_field_errors_stay_at_their_parent_path():
    errors = {
        "non_field_errors": ["Dates overlap."],
        "slot": {"non_field_errors": [ErrorDetail("Taken.", code="taken")]},
    }
    assert flatten_errors(errors) == [
        Detail("", "Dates overlap.", None),
        Detail("slot", "Taken.", "taken"),
    ]


def test_old_list_form_skips_valid_items():
    # DRF ≤ 3.17 answers a list with an empty dict per valid item.
    errors = [{}, {"email": [ErrorDetail("Bad.", code="invalid")]}, {}]
    assert flatten_errors(errors, "items") == [Detail("items.1.email", "Bad.", "invalid")]


def test_django_validation_error_message_dict():
    exc = DjangoValidationError({"name": ["Required."], "__all__": ["Inconsistent."]})
    assert flatten_errors(exc.message_dict) == [
        Detail("name", "Required."),
        Detail("", "Inconsistent."),
    ]


def test_a_list_mixing_messages_and_objects_keeps_every_message():
    errors = {"tags": ["Too many.", {"name": ["Blank."]}]}
    assert flatten_errors(errors) == [
        Detail("tags.0", "Too many."),
        Detail("tags.1.name", "Blank."),
    ]


def test_a_thousand_item_list_error_names_every_item():
    details = flatten_errors({"items": item_errors(1000)})
    assert len(details) == 1000
    assert [d.path for d in details[:2]] == ["items.0.quantity", "items.1.quantity"]
    assert details[-1].path == "items.999.quantity"
    assert {d.code for d in details} == {"min_value"}


leaves = st.one_of(
    st.text(max_size=6),
    st.builds(ErrorDetail, st.text(max_size=6), st.sampled_from(["required", "invalid", None])),
    st.none(),
    st.integers(),
)
keys = st.one_of(st.sampled_from(["a", "email", "non_field_errors", "__all__"]), st.integers(0, 4))
trees = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(trees)
def test_any_error_structure_flattens_as_the_plain_rules_say(errors):
    assert [tuple(d) for d in flatten_errors(errors)] == reference_flatten(errors)
