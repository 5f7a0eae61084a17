"""A support person checks which errors matter, in a real browser with JavaScript OFF: the
dictionary's list shows each entry's responses (24 h, 7 days, trend), and an entry's page
charts them per hour by format and by language, with its top callers.

Seven days of history are written into the store as past flushes would have; the last hour
comes from a real load run over HTTP against the live server, flushed. Screenshots:
test-artifacts/entry-stats.png (the entry's panel; copied to docs/ for the README) and
test-artifacts/list-stats.png.
"""

import datetime
import math
import re

import pytest
import requests
from django.utils import timezone

from apierrors.stats import flush
from apierrors.stats.store import now_hour

from ..test_browser import ARTIFACTS, TIMEOUT_MS
from .conftest import fresh_counter, write_cells

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNKNOWN_ID = "a47c7b0ebbb442cdbc4adf259d148ea1"


def seed_history() -> int:
    """A week of a daily rhythm for unknown_resource, in three formats and languages."""
    cells, total = {}, 0
    for ago in range(1, 7 * 24):
        hour = now_hour() - ago
        daytime = 1 + math.sin((hour % 24 - 8) / 24 * 2 * math.pi)  # busiest mid-afternoon
        for fmt, language, weight in (
            ("fhir", "en", 24),
            ("problem", "pl", 12),
            ("docplanner", "es", 8),
        ):
            n = int(daytime * weight)
            if n:
                cells["unknown_resource", hour, 404, fmt, language] = n
                total += n
    write_cells(cells, {("unknown_resource", now_hour() // 24 - 2): {"south": 40, "partner-b": 25}})
    return total


def load_run(base: str, tokens: dict[str, str]) -> int:
    """Real error responses over HTTP: callers in several formats and languages."""
    url = f"{base}/api/v1/patients/{UNKNOWN_ID}/"
    plan = [
        ({"Authorization": f"Bearer {tokens['north']}"}, 60),
        (
            {
                "Authorization": f"Bearer {tokens['north']}",
                "Accept-Language": "pl",
                "Accept": "application/problem+json",
            },
            30,
        ),
        ({"Authorization": f"Bearer {tokens['south']}", "Accept-Language": "es"}, 20),
    ]
    sent = 0
    with requests.Session() as session:
        for headers, times in plan:
            for _ in range(times):
                assert session.get(url, headers=headers, timeout=10).status_code == 404
                sent += 1
        for _ in range(15):  # no token: 401 authentication_failed, "anonymous"
            assert session.get(url, timeout=10).status_code == 401
            sent += 1
    return sent


def test_support_sees_which_errors_callers_get(server, browser_page, demo, settings):
    from django.contrib.auth import get_user_model
    from playwright.sync_api import expect

    from apierrors.dictionary.sync import sync_declared_codes
    from apierrors.models import ErrorCode

    sync_declared_codes()
    settings.APIERRORS = {**settings.APIERRORS, "STATS_STORE": "database"}
    fresh_counter()
    get_user_model().objects.create_superuser("support", "support@example.com", "s3cret-pw")
    # The message was edited three days ago: the chart marks it.
    ErrorCode.objects.filter(key="unknown_resource").update(
        updated_at=timezone.now() - datetime.timedelta(days=3)
    )
    history = seed_history()
    sent = load_run(server, demo)
    assert flush() == sent
    week = history + sent - 15

    # JavaScript off: the charts are the server's SVG.
    context = browser_page.context.browser.new_context(
        java_script_enabled=False,
        viewport={"width": 1280, "height": 900},
        locale="en-US",
        color_scheme="light",
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{server}/admin/apierrors/errorcode/")
        page.fill("#id_username", "support")
        page.fill("#id_password", "s3cret-pw")
        page.click("input[type=submit]")

        # The list: 24 h and 7 days per entry, and a trend line with data.
        row = page.locator("#result_list tr", has=page.locator("a:text-is('unknown_resource')"))
        expect(row.locator("td.field-responses_7d")).to_have_text(str(week))
        last_day = int(row.locator("td.field-responses_24h").inner_text())
        assert sent - 15 < last_day < week
        spark = row.locator("td.field-responses_trend svg.apierrors-spark")
        expect(spark).to_be_visible()
        assert int(spark.get_attribute("data-max")) > 0
        auth_row = page.locator(
            "#result_list tr", has=page.locator("a:text-is('authentication_failed')")
        )
        expect(auth_row.locator("td.field-responses_24h")).to_have_text("15")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "list-stats.png"))

        # Sort by 7 days, most first: the entry callers hit most leads.
        page.click("th.column-responses_7d .text a")
        page.click("th.column-responses_7d .text a")
        expect(page.locator("#result_list tbody tr").first.locator("th.field-key")).to_have_text(
            "unknown_resource"
        )

        # The entry's page: per hour over 7 days, by format and by language.
        page.click("a:text-is('unknown_resource')")
        panel = page.locator("#apierrors-stats")
        expect(panel.locator(".apierrors-stats-total")).to_have_attribute("data-total", str(week))
        charts = panel.locator("svg.apierrors-chart")
        expect(charts).to_have_count(2)
        by_format, by_language = charts.nth(0), charts.nth(1)
        expect(by_format).to_be_visible()
        assert by_format.get_attribute("data-total") == str(week)
        assert by_format.locator("g.bar").count() > 100  # one bar per hour with responses
        legend = [
            by_format.locator("g.legend").nth(i).get_attribute("data-series")
            for i in range(by_format.locator("g.legend").count())
        ]
        assert legend == ["fhir", "problem", "docplanner"]
        assert {
            by_language.locator("g.legend").nth(i).get_attribute("data-series") for i in range(3)
        } == {"en", "pl", "es"}
        expect(by_format.locator("g.marker")).to_have_count(1)  # the edit, 3 days ago
        box = by_format.bounding_box()
        assert box["width"] > 600 and box["height"] > 150  # drawn, not collapsed
        callers = panel.locator(".apierrors-stats-callers tbody tr")
        expect(callers.first).to_contain_text("north")
        assert re.search(r"north\s+90", callers.first.inner_text())
        panel.screenshot(path=str(ARTIFACTS / "entry-stats.png"))

        # Per day over 90 days, by a plain link.
        panel.locator("a", has_text="per day, 90 days").click()
        daily = page.locator("#apierrors-stats svg.apierrors-chart").first
        expect(daily).to_have_attribute("data-buckets", "90")
        assert daily.get_attribute("data-total") == str(week)
    finally:
        context.close()
