"""The statistics where support staff work: the dictionary's list (24 h, 7 days, trend, sort,
"not returned" and "untranslated" filters) and an entry's page (charts per hour and per day,
by format and language, top callers), on the database store and on Redis."""

import re
from html import unescape

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from apierrors.models import ErrorCode, ErrorTranslation
from apierrors.stats import flush
from apierrors.stats.counter import counter
from apierrors.stats.store import now_hour

from ..factories import ErrorCodeFactory
from .conftest import free_port, fresh_counter, use_redis_cache, write_cells

pytestmark = pytest.mark.urls("tests.stats.urls")

CHANGELIST = reverse("admin:apierrors_errorcode_changelist")
UNKNOWN_ID = "a47c7b0ebbb442cdbc4adf259d148ea1"


def change_url(key: str) -> str:
    return reverse("admin:apierrors_errorcode_change", args=[ErrorCode.objects.get(key=key).pk])


def rows(html: str) -> dict[str, str]:
    """key → its changelist row."""
    found = {}
    for row in html.split("<tr")[1:]:
        match = re.search(r'<th class="field-key"><a [^>]*>([a-z_0-9]+)</a>', row)
        if match:
            found[match.group(1)] = row
    return found


def cell(row: str, column: str) -> str:
    match = re.search(rf'<td class="field-{column}">(.*?)</td>', row, re.S)
    return unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip() if match else ""


def keys_listed(response) -> list[str]:
    return [o.key for o in response.context["cl"].result_list]


@pytest.fixture
def traffic(stats_store, demo):
    """Real responses now (unknown_resource as north, in two formats and languages; a 401
    for an anonymous caller), plus counts written for past hours as flushes would have."""
    north = APIClient()
    north.credentials(HTTP_AUTHORIZATION=f"Bearer {demo['north']}")
    url = f"/api/v1/patients/{UNKNOWN_ID}/"
    for _ in range(4):
        assert north.get(url).status_code == 404
    for _ in range(2):
        assert (
            north.get(
                url, HTTP_ACCEPT="application/problem+json", HTTP_ACCEPT_LANGUAGE="pl"
            ).status_code
            == 404
        )
    assert APIClient().get(url).status_code == 401
    assert flush() == 7
    write_cells(
        {
            ("unknown_resource", now_hour() - 30, 404, "fhir", "en"): 5,  # 7 days, not 24 h
            ("unknown_resource", now_hour() - 40 * 24, 404, "fhir", "en"): 9,  # 90 days only
            ("conflict", now_hour() - 40 * 24, 409, "fhir", "en"): 3,  # not in 30 days
            ("precondition_failed", now_hour() - 2, 412, "docplanner", "es"): 1,
        },
        {("unknown_resource", now_hour() // 24 - 1): {"south": 1}},
    )
    return stats_store


def test_the_list_shows_24h_7d_and_a_trend_line(admin_client, traffic):
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    listed = rows(response.content.decode())
    assert (
        cell(listed["unknown_resource"], "responses_24h"),
        cell(listed["unknown_resource"], "responses_7d"),
    ) == ("6", "11")
    assert (
        cell(listed["authentication_failed"], "responses_24h"),
        cell(listed["authentication_failed"], "responses_7d"),
    ) == ("1", "1")
    assert (
        cell(listed["conflict"], "responses_24h"),
        cell(listed["conflict"], "responses_7d"),
    ) == ("0", "0")
    trend = re.search(
        r'<td class="field-responses_trend">(.*?)</td>', listed["unknown_resource"], re.S
    ).group(1)
    assert '<svg class="apierrors-spark"' in trend
    assert 'data-max="6"' in trend  # the last 6 hours' bucket: 6 responses
    assert "11 responses in 7 days" in trend
    assert 'data-max="0"' in re.search(
        r'<td class="field-responses_trend">(.*?)</td>', listed["conflict"], re.S
    ).group(1)


def test_the_list_sorts_by_responses(admin_client, traffic):
    html = admin_client.get(CHANGELIST).content.decode()
    sort = re.search(
        r'<th scope="col" class="sortable column-responses_7d">.*?'
        r'<a\b[^>]*\bhref="\?o=(\d+)[^"]*"',  # Django 6.1 adds role="button"
        html,
        re.S,
    ).group(1)
    listed = keys_listed(admin_client.get(CHANGELIST, {"o": f"-{sort}"}))
    assert listed[:3] == [
        "unknown_resource",
        "precondition_failed",
        "authentication_failed",
    ] or listed[:3] == ["unknown_resource", "authentication_failed", "precondition_failed"]
    assert keys_listed(admin_client.get(CHANGELIST, {"o": sort}))[-1] == "unknown_resource"


def test_filter_not_returned_in_30_days(admin_client, traffic):
    with_counts = admin_client.get(CHANGELIST, {"_facets": "True"})  # the admin's facet counts
    assert re.search(r"Not returned in 30 days \((\d+)\)", with_counts.content.decode())
    listed = keys_listed(admin_client.get(CHANGELIST, {"returned": "none"}))
    assert "conflict" in listed  # 40 days ago only: a candidate to retire
    assert "not_found" in listed  # never
    assert {"unknown_resource", "authentication_failed", "precondition_failed"}.isdisjoint(listed)


def test_filter_returned_but_never_translated(admin_client, traffic):
    ErrorCodeFactory(key="slot_taken", status=409)
    translated = ErrorCodeFactory(key="slot_gone", status=410)
    ErrorTranslation.objects.create(error=translated, language="pl", message="Nie ma.")
    write_cells(
        {
            ("slot_taken", now_hour(), 409, "fhir", "en"): 2,
            ("slot_gone", now_hour(), 410, "fhir", "es"): 1,
        }
    )

    listed = keys_listed(admin_client.get(CHANGELIST, {"returned": "untranslated"}))
    # Built-ins come translated (.mo files); slot_gone has Polish; slot_taken has nothing.
    assert listed == ["slot_taken"]
    # slot_gone was returned to a Spanish caller, and has no Spanish text.
    fallback = keys_listed(admin_client.get(CHANGELIST, {"returned": "fallback"}))
    assert fallback == ["slot_gone"]


def test_the_list_reads_the_store_once_whatever_the_number_of_entries(admin_client, traffic):
    def queries_for_list() -> int:
        with CaptureQueriesContext(connections["default"]) as captured:
            assert admin_client.get(CHANGELIST).status_code == 200
        return len(captured.captured_queries)

    before = queries_for_list()
    write_cells(
        {
            (key, now_hour(), 400, "fhir", "en"): 1
            for key in ErrorCode.objects.values_list("key", flat=True)
        }
    )
    assert queries_for_list() == before


def test_an_entrys_page_charts_its_responses_by_format_and_language(admin_client, traffic):
    response = admin_client.get(change_url("unknown_resource"))
    assert response.status_code == 200
    html = response.content.decode()
    panel = html.split('id="apierrors-stats"')[1].split("</fieldset>")[0]
    assert 'data-total="11"' in panel  # 7 days: 6 now + 5 thirty hours ago
    charts = re.findall(r'<svg class="apierrors-chart".*?</svg>', panel, re.S)
    assert len(charts) == 2
    by_format, by_language = charts
    assert 'data-buckets="168"' in by_format
    assert 'data-total="11"' in by_format and 'data-total="11"' in by_language
    assert re.findall(r'<g class="legend" data-series="([^"]+)">', by_format) == ["fhir", "problem"]
    assert re.findall(r'<g class="legend" data-series="([^"]+)">', by_language) == ["en", "pl"]
    assert len(re.findall(r'<g class="bar"', by_format)) == 2  # two hours with responses
    assert '<g class="marker">' in by_format  # the entry's last edit
    callers = re.findall(r"<tr><td>([^<]+)</td><td[^>]*>(\d+)</td></tr>", panel)
    assert callers == [("north", "6"), ("south", "1")]


def test_an_entrys_page_per_day_over_90_days(admin_client, traffic):
    html = admin_client.get(change_url("unknown_resource"), {"stats": "90d"}).content.decode()
    panel = html.split('id="apierrors-stats"')[1].split("</fieldset>")[0]
    chart = re.search(r'<svg class="apierrors-chart".*?</svg>', panel, re.S).group(0)
    assert 'data-buckets="90"' in chart
    assert 'data-total="20"' in chart  # 40 days ago counts too
    assert "per day, last 90 days" in chart
    assert '<a href="?stats=7d#apierrors-stats">' in panel


def test_an_entry_never_returned_says_so(admin_client, stats_store):
    html = admin_client.get(change_url("conflict")).content.decode()
    assert "0 responses" in html
    assert "no responses</text>" in html
    assert "No responses in the last 7 days." in html


def test_callers_off_show_no_callers(admin_client, traffic, settings):
    settings.APIERRORS = {**settings.APIERRORS, "STATS_CALLERS": False}
    html = admin_client.get(change_url("unknown_resource")).content.decode()
    assert "apierrors-chart" in html
    assert "Top callers" not in html and "north" not in html.split('id="apierrors-stats"')[1]


def test_statistics_off_show_no_columns_and_no_panel(admin_client, stats_store, settings):
    settings.APIERRORS = {**settings.APIERRORS, "STATS": False}
    response = admin_client.get(CHANGELIST)
    assert "responses_24h" not in response.content.decode()
    assert "apierrors-stats" not in admin_client.get(change_url("conflict")).content.decode()


def test_a_store_that_is_down_leaves_the_admin_working(admin_client, settings, transactional_db):
    from apierrors.dictionary.sync import sync_declared_codes

    sync_declared_codes()
    use_redis_cache(settings, f"redis://127.0.0.1:{free_port()}/0")  # nobody listens there
    fresh_counter()
    try:
        response = admin_client.get(CHANGELIST)
        assert response.status_code == 200
        assert "Error statistics are unavailable right now" in response.content.decode()
        assert cell(rows(response.content.decode())["conflict"], "responses_24h") == "—"
        assert admin_client.get(CHANGELIST, {"returned": "none"}).status_code == 200
        page = admin_client.get(change_url("conflict"))
        assert page.status_code == 200
        assert "Error statistics are unavailable right now" in page.content.decode()
    finally:
        fresh_counter()
    assert counter.pending() == 0
