"""A support person's afternoon, in a real browser (Playwright driving Debian's chromium).

Log in to the admin, rewrite an entry's message and add its Polish translation, watch the
live preview follow, save, then call the API in English and Polish and read the published
dictionary. The change page's screenshot is saved to test-artifacts/admin-change-page.png.

Needs /usr/bin/chromium (``apt-get install chromium``; .ci/run installs it) and the
``playwright`` Python package. Playwright's own browser download is never used. Without
either the test is skipped, with the reason; in CI (CI=true) that is a failure.
"""

import re
import shutil
from pathlib import Path

import pytest
from django.db import connections

from .conftest import IN_CI

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
UNKNOWN_ID = "a47c7b0ebbb442cdbc4adf259d148ea1"
ENGLISH = "No {resource} with id {id} here: it may have been deleted."
POLISH = "Nie ma zasobu {resource} o id {id}: mógł zostać usunięty."
TIMEOUT_MS = 15_000


def _missing() -> str | None:
    if shutil.which(CHROMIUM) is None:
        return f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright)"
    return None


@pytest.fixture
def browser_page(monkeypatch):
    reason = _missing()
    if reason:
        if IN_CI:
            pytest.fail(f"{reason} (CI must have it)")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900},
                                          locale="en-US")
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            yield page
        finally:
            browser.close()
            # The test's ORM calls ran in Playwright's context, which has database
            # connections of its own: close them here, or they outlive the test database.
            connections.close_all()


@pytest.fixture
def server(transactional_db):
    """pytest-django's live server on 127.0.0.1, stopped (its connections closed) right after
    the test rather than at the end of the session, when the test database is dropped."""
    from pytest_django.live_server_helper import LiveServer

    live = LiveServer("127.0.0.1:0")
    try:
        yield live.url
    finally:
        live.stop()


def test_support_edits_a_message_and_its_polish_translation(server, browser_page, demo):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    from apierrors.models import ErrorCode
    from apierrors.sync import sync_declared_codes

    # Whatever a transactional test before this one left (a flush without post_migrate
    # empties the dictionary), the built-ins must be there.
    sync_declared_codes()
    get_user_model().objects.create_superuser("support", "support@example.com", "s3cret-pw")
    entry = ErrorCode.objects.get(key="unknown_resource")
    page = browser_page
    base = server

    # Log in and find the entry by searching its key.
    page.goto(f"{base}/admin/apierrors/errorcode/")
    page.fill("#id_username", "support")
    page.fill("#id_password", "s3cret-pw")
    page.click("input[type=submit]")
    page.fill("#searchbar", "unknown_resource")
    page.press("#searchbar", "Enter")
    page.click("a:text-is('unknown_resource')")
    expect(page).to_have_url(re.compile(rf"/admin/apierrors/errorcode/{entry.pk}/change/"))
    expect(page.locator("#apierrors-preview .apierrors-body").first).to_contain_text(
        "Unknown Patient resource")

    # Edit the message and add a Polish translation; the preview follows before saving.
    page.fill("#id_message", ENGLISH)
    page.click("#translations-group .add-row a")
    page.select_option("#id_translations-0-language", "pl")
    page.fill("#id_translations-0-message", POLISH)
    preview = page.locator("#apierrors-preview")
    expect(preview.locator('.apierrors-preview[data-state="unsaved"]')).to_be_visible()
    expect(preview.locator('tr[data-language="en"] .apierrors-message')).to_have_text(
        "No Patient with id a47c7b0ebbb442cdbc4adf259d148ea1 here: it may have been deleted.")
    expect(preview.locator('tr[data-language="pl"] .apierrors-message')).to_have_text(
        "Nie ma zasobu Patient o id a47c7b0ebbb442cdbc4adf259d148ea1: mógł zostać usunięty.")

    # Save and keep editing: the saved preview shows both texts.
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    expect(preview.locator('.apierrors-preview[data-state="saved"]')).to_be_visible()
    expect(preview.locator('tr[data-language="pl"] .apierrors-message')).to_contain_text(
        "Nie ma zasobu Patient")
    fhir = preview.locator('details[data-language="en"] [data-format="fhir"] .apierrors-body')
    expect(fhir).to_contain_text('"text": "No Patient with id')
    page.click('details[data-language="pl"] summary')
    expect(page.locator('details[data-language="pl"] [data-format="problem"] '
                        '.apierrors-body')).to_contain_text('"detail": "Nie ma zasobu')
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-change-page.png"), full_page=True)

    # The API answers with the new text, in English and in Polish.
    api = page.context.request
    url = f"{base}/api/v1/patients/{UNKNOWN_ID}/"
    auth = {"Authorization": f"Bearer {demo['north']}"}
    for language, text in (("en", f"No Patient with id {UNKNOWN_ID} here"),
                           ("pl", f"Nie ma zasobu Patient o id {UNKNOWN_ID}")):
        response = api.get(url, headers={**auth, "Accept-Language": language})
        assert response.status == 404
        assert response.json()["issue"][0]["details"]["text"].startswith(text)

    # The published dictionary shows it too; the entry's page is the problem+json type.
    page.goto(f"{base}/errors/?lang=pl")
    expect(page.locator("#unknown_resource .message")).to_have_text(POLISH)
    page.click("#unknown_resource a")
    expect(page).to_have_url(f"{base}/errors/unknown_resource/")
    expect(page.locator("h1")).to_have_text("Unknown resource")
    expect(page.locator("dd.message")).to_have_text(ENGLISH)

