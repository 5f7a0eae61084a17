"""Every dotted path the README and the design name keeps importing, wherever the code lives."""

import importlib
import re
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

README = Path(__file__).resolve().parent.parent / "README.md"

# design.md (the contract, kept outside the repository) names these.
DESIGN = [
    "apierrors.middleware.AtomicRequestsMiddleware",
    "apierrors.handler.exception_handler",
    "apierrors.views.bad_request",
    "apierrors.views.permission_denied",
    "apierrors.views.page_not_found",
    "apierrors.views.server_error",
    "apierrors.urls",
    "apierrors.models.ErrorCode",
    "apierrors.models.ErrorTranslation",
    "apierrors.exceptions",
    "apierrors.testing",
]

# Named in settings, entry points and examples rather than as a dotted path in the README.
OTHERS = [
    "apierrors.pytest_plugin",
    "apierrors.handler.ExceptionHandler",
    "apierrors.handler.Classified",
    "apierrors.errors_middleware.APIErrorsMiddleware",
    "apierrors.views.csrf_failure",
    "apierrors.schema.AutoSchema",
    "apierrors.openapi.OpenAPIValidationMiddleware",
    "apierrors.negotiation.ErrorFormatNegotiation",
    "apierrors.conditional.ConditionalMixin",
    "apierrors.throttling.RateLimitHeadersMixin",
    "apierrors.parsers.JSONParser",
    "apierrors.resources.SpreadsheetSafeCSV",
    "apierrors.formats.ErrorFormat",
    "apierrors.declared.declare",
    "apierrors.declared.DeclaredError",
    "apierrors.catalog.dictionary_changed",
    "apierrors.middleware.non_atomic",
    "apierrors.conf.api_settings",
    "apierrors.client.raise_for_response",
    "apierrors.client.install",
    "apierrors.stats.flush",
]

CHECK_ID = re.compile(r"apierrors\.[EW]\d{3}$")


def readme_names() -> list[str]:
    text = README.read_text()
    names = set(re.findall(r"\bapierrors(?:\.[A-Za-z_]\w*)+", text))
    for module, imported in re.findall(r"from (apierrors[\w.]*) import ([\w, ]+)", text):
        names.update(f"{module}.{name.strip()}" for name in imported.split(",") if name.strip())
    return sorted(n for n in names if not CHECK_ID.match(n))


def test_the_readme_names_some():
    assert len(readme_names()) > 20


@pytest.mark.parametrize("name", sorted(set(DESIGN + OTHERS + readme_names())))
def test_public_path_imports(name):
    try:
        importlib.import_module(name)
    except ImportError:
        import_string(name)
