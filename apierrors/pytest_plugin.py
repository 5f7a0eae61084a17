"""pytest plugin, registered on install (the ``pytest11`` entry point): the ``override_error``
fixture.

pytest loads this module in every run where apierrors is installed, Django project or not, so
it imports nothing from Django or apierrors until a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .dictionary.catalog import Entry


@pytest.fixture
def override_error() -> Iterator[Callable[..., Entry]]:
    """``override_error(key, message=..., title=..., status=..., error_code=...)`` changes an
    entry until the test ends (see ``apierrors.testing.override_error``); returns the entry."""
    from apierrors.testing import override_error as override

    active: list[Any] = []

    def apply(key: str, **changes: Any) -> Entry:
        override_ = override(key, **changes)
        entry = override_.enable()
        active.append(override_)
        return entry

    yield apply
    while active:  # innermost first, as nested blocks would
        active.pop().disable()
