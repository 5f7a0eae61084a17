"""A support person's afternoon, in a real browser (Playwright driving Debian's chromium).

Log in to the admin, rewrite an entry's message and add its Polish translation, watch the
live preview follow, save, then call the API in English and Polish and read the published
dictionary. The change page's screenshot is saved to test-artifacts/admin-change-page.png.

And the demo as a newcomer runs it: ``manage.py demo`` in a process of its own (DEBUG off,
static files served by WhiteNoise alone), its printed admin login, the admin's stylesheet
loaded and applied, the preview following the typing (test-artifacts/demo-change-page.png).

Needs /usr/bin/chromium (``apt-get install chromium``; .ci/run installs it) and the
``playwright`` Python package. Playwright's own browser download is never used. Without
either the test is skipped, with the reason; in CI (CI=true) that is a failure.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connections

from .conftest import IN_CI

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
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
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = browser.new_context(
                viewport={"width": 1280, "height": 900}, locale="en-US", color_scheme="light"
            )
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
    the test rather than at the end of the session, when the test database is dropped.

    It serves static files itself (Django's static handler, before the middleware), as
    ``manage.py demo`` does not: the demo's own serving (WhiteNoise, DEBUG off) is tested by
    ``test_the_demo_as_a_newcomer_runs_it`` below, on the demo's own process. Behind this
    threaded server every thread shares the in-memory test database's one connection, so
    the browser's parallel static requests must not reach the request-transaction middleware.
    """
    from pytest_django.live_server_helper import LiveServer

    live = LiveServer("127.0.0.1:0")
    try:
        yield live.url
    finally:
        live.stop()


def test_support_edits_a_message_and_its_polish_translation(server, browser_page, demo):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    from apierrors.dictionary.sync import sync_declared_codes
    from apierrors.models import ErrorCode

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
        "Unknown Patient resource"
    )

    # Edit the message and add a Polish translation; the preview follows before saving.
    page.fill("#id_message", ENGLISH)
    page.click("#translations-group .add-row a")
    page.select_option("#id_translations-0-language", "pl")
    page.fill("#id_translations-0-message", POLISH)
    preview = page.locator("#apierrors-preview")
    expect(preview.locator('.apierrors-preview[data-state="unsaved"]')).to_be_visible()
    expect(preview.locator('tr[data-language="en"] .apierrors-message')).to_have_text(
        "No Patient with id a47c7b0ebbb442cdbc4adf259d148ea1 here: it may have been deleted."
    )
    expect(preview.locator('tr[data-language="pl"] .apierrors-message')).to_have_text(
        "Nie ma zasobu Patient o id a47c7b0ebbb442cdbc4adf259d148ea1: mógł zostać usunięty."
    )

    # Save and keep editing: the saved preview shows both texts.
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    expect(preview.locator('.apierrors-preview[data-state="saved"]')).to_be_visible()
    expect(preview.locator('tr[data-language="pl"] .apierrors-message')).to_contain_text(
        "Nie ma zasobu Patient"
    )
    fhir = preview.locator('details[data-language="en"] [data-format="fhir"] .apierrors-body')
    expect(fhir).to_contain_text('"text": "No Patient with id')
    page.click('details[data-language="pl"] summary')
    expect(
        page.locator('details[data-language="pl"] [data-format="problem"] .apierrors-body')
    ).to_contain_text('"detail": "Nie ma zasobu')
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-change-page.png"), full_page=True)

    # The API answers with the new text, in English and in Polish.
    api = page.context.request
    url = f"{base}/api/v1/patients/{UNKNOWN_ID}/"
    auth = {"Authorization": f"Bearer {demo['north']}"}
    for language, text in (
        ("en", f"No Patient with id {UNKNOWN_ID} here"),
        ("pl", f"Nie ma zasobu Patient o id {UNKNOWN_ID}"),
    ):
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


# -- the demo as a newcomer runs it --------------------------------------------------------

HEADER_BG = "rgb(65, 118, 144)"  # #header: --header-bg, set by Django's admin/css/base.css
UNSAVED = "rgb(154, 103, 0)"  # the preview's "unsaved" state: apierrors/admin.css


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def demo_server(tmp_path):
    """``manage.py demo --addrport 127.0.0.1:<port>`` as the README runs it, on fresh SQLite
    files; yields (base URL, admin password), then stops that process."""
    import requests

    env = {k: v for k, v in os.environ.items() if not k.startswith(("APIERRORS_", "DJANGO_"))}
    env.update(
        APIERRORS_SQLITE_PATH=str(tmp_path / "demo.sqlite3"),
        APIERRORS_SQLITE_OTHER_PATH=str(tmp_path / "demo-other.sqlite3"),
        PYTHONUNBUFFERED="1",
    )
    addrport = f"127.0.0.1:{_free_port()}"
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "demo", "--addrport", addrport],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://{addrport}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, f"manage.py demo exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"manage.py demo never served:\n{log.read_text()}"
            try:
                if requests.get(f"{base}/admin/login/", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.25)
        password = re.search(r"user: admin +password: (\S+)", log.read_text())
        assert password, log.read_text()
        yield base, password.group(1)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_demo_as_a_newcomer_runs_it(browser_page, demo_server):
    from playwright.sync_api import expect

    base, password = demo_server
    page = browser_page
    stylesheets = []

    def record(response):
        if response.request.resource_type == "stylesheet":
            stylesheets.append((response.url, response.status))

    page.on("response", record)

    # The login page: Django's admin stylesheet arrives and applies, with DEBUG off.
    page.goto(f"{base}/admin/")
    expect(page.locator("#header")).to_have_css("background-color", HEADER_BG)
    assert (f"{base}/static/admin/css/base.css", 200) in stylesheets
    css = page.context.request.get(f"{base}/static/admin/css/base.css")
    assert css.status == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "--header-bg" in css.text()
    script = page.context.request.get(f"{base}/static/apierrors/admin-preview.js")
    assert script.status == 200
    assert "javascript" in script.headers["content-type"]

    # Log in with the printed password; open an entry of the dictionary.
    page.fill("#id_username", "admin")
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("admin")
    page.goto(f"{base}/admin/apierrors/errorcode/?q=unknown_resource")
    page.click("a:text-is('unknown_resource')")
    preview = page.locator("#apierrors-preview")
    english = preview.locator('tr[data-language="en"] .apierrors-message')
    expect(english).to_have_text(f"Unknown Patient resource '{UNKNOWN_ID}'")
    assert (f"{base}/static/apierrors/admin.css", 200) in stylesheets

    # Type a new message, key by key: the preview follows, marked unsaved, before any save.
    page.fill("#id_message", "")
    page.locator("#id_message").press_sequentially("Gone: {resource} {id}.", delay=20)
    expect(english).to_have_text(f"Gone: Patient {UNKNOWN_ID}.")
    state = preview.locator('.apierrors-preview[data-state="unsaved"] .apierrors-preview-state')
    expect(state).to_have_css("color", UNSAVED)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-change-page.png"), full_page=True)
