"""The statistics in the dictionary's admin: list columns, a filter, the entry's panel.

``ErrorStatsAdminMixin`` goes before the ModelAdmin base of ``ErrorCodeAdmin``. The list
reads the store once per page (``Overview``, every entry at once: no query per row) and
sorts by annotations built from it; the change page reads one entry's series and callers.
When the store cannot be read the page still renders, saying so.
"""

import datetime
import logging
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import BigIntegerField, Case, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .charts import Bucket, sparkline, stacked_bars
from .conf import OTHER_LANGUAGE
from .counter import counter
from .store import WEEK_HOURS, Overview, now_hour

logger = logging.getLogger("apierrors.stats")

STATS_COLUMNS = ["responses_24h", "responses_7d", "responses_trend"]
TOP_CALLERS = 10
_UNREAD: Any = object()


def stats_enabled() -> bool:
    return (counter.config or counter.configure()).enabled


def overview_for(request: HttpRequest) -> Overview | None:
    """The store's overview, read once per request; None when the store can't be read."""
    found = getattr(request, "_apierrors_stats_overview", _UNREAD)
    if found is _UNREAD:
        try:
            found = counter.store().overview(now_hour())
            request._apierrors_stats_error = None
        except Exception as exc:
            logger.warning("Error statistics not readable: %s", exc)
            found, request._apierrors_stats_error = None, exc
        request._apierrors_stats_overview = found
    return found


def _translated(obj: Any) -> list[str]:
    from ..admin.dictionary import _translated_languages  # the admin's own notion of "translated"

    return _translated_languages(obj)


class ResponsesFilter(admin.SimpleListFilter):
    title = _("responses (30 days)")
    parameter_name = "returned"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("none", _("Not returned in 30 days")),
            ("untranslated", _("Returned, never translated")),
            ("fallback", _("Returned in a language it has no text for")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() not in ("none", "untranslated", "fallback"):
            return queryset
        overview = overview_for(request)
        if overview is None:
            return queryset
        returned = overview.returned_keys()
        if self.value() == "none":
            return queryset.exclude(key__in=returned)
        candidates = queryset.filter(key__in=returned).prefetch_related("translations")
        if self.value() == "untranslated":
            pks = [o.pk for o in candidates if not _translated(o)]
        else:
            from django.conf import settings

            pks = []
            for o in candidates:
                asked = {
                    lang
                    for lang, n in overview.month.get(o.key, {}).items()
                    if n and lang not in (settings.LANGUAGE_CODE, OTHER_LANGUAGE)
                }
                if asked - set(_translated(o)):
                    pks.append(o.pk)
        return queryset.filter(pk__in=pks)


def _by_key(values: dict[str, int]) -> Any:
    whens = [When(key=key, then=Value(n)) for key, n in values.items() if n]
    if not whens:
        return Value(0, output_field=BigIntegerField())
    return Case(*whens, default=Value(0), output_field=BigIntegerField())


class ErrorStatsAdminMixin:
    """Columns "24 h", "7 days" and a trend line; the "responses" filter; the entry's panel."""

    # -- the list --------------------------------------------------------------------------

    def get_list_display(self, request: HttpRequest) -> list[str]:
        columns = list(super().get_list_display(request))
        if stats_enabled():
            at = columns.index("status_badge") + 1 if "status_badge" in columns else len(columns)
            columns[at:at] = [c for c in STATS_COLUMNS if c not in columns]
        return columns

    def get_list_filter(self, request: HttpRequest) -> list[Any]:
        filters = list(super().get_list_filter(request))
        if stats_enabled() and ResponsesFilter not in filters:
            filters.insert(0, ResponsesFilter)
        return filters

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        if stats_enabled():
            request._apierrors_stats_list = True
            if overview_for(request) is None:
                self.message_user(
                    request,
                    gettext(
                        "Error statistics are unavailable right now (%(error)s): the columns "
                        "show no counts."
                    )
                    % {"error": request._apierrors_stats_error},
                    messages.WARNING,
                )
        return super().changelist_view(request, extra_context)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if getattr(request, "_apierrors_stats_list", False):
            overview = overview_for(request)
            if overview is not None:
                keys = overview.hourly
                queryset = queryset.annotate(
                    stats_24h=_by_key({k: overview.last_hours(k, 24) for k in keys}),
                    stats_7d=_by_key({k: overview.last_hours(k, WEEK_HOURS) for k in keys}),
                )
        return queryset

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        overview = overview_for(request) if stats_enabled() else None
        for obj in changelist.result_list:
            obj.apierrors_trend = overview.trend(obj.key) if overview is not None else None
        return changelist

    @admin.display(description=_("24 h"), ordering="stats_24h")
    def responses_24h(self, obj: Any) -> str:
        return _count_cell(getattr(obj, "stats_24h", None))

    @admin.display(description=_("7 days"), ordering="stats_7d")
    def responses_7d(self, obj: Any) -> str:
        return _count_cell(getattr(obj, "stats_7d", None))

    @admin.display(description=_("trend (7 days)"))
    def responses_trend(self, obj: Any) -> str:
        trend = getattr(obj, "apierrors_trend", None)
        if trend is None:
            return "—"
        return sparkline(
            trend, gettext("%(n)d responses in 7 days, per 6 hours") % {"n": sum(trend)}
        )

    @property
    def media(self) -> forms.Media:
        return super().media + forms.Media(css={"all": ["apierrors/stats.css"]})

    # -- the entry's page ------------------------------------------------------------------

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk is not None and stats_enabled():
            context["apierrors_stats_panel"] = render_panel(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)


def _count_cell(value: int | None) -> str:
    if value is None:
        return "—"
    return format_html(
        '<span class="apierrors-count{}">{}</span>', "" if value else " apierrors-count-zero", value
    )


def _hour_label(hour: int) -> str:
    return _utc(hour * 3600).strftime("%Y-%m-%d %H:00 UTC")


def _utc(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)


def _last_edit_hour(obj: Any) -> int | None:
    times = [obj.updated_at, *(t.updated_at for t in obj.translations.all())]
    times = [t for t in times if t is not None]
    return int(max(times).timestamp() // 3600) if times else None


def panel_context(request: HttpRequest, obj: Any) -> dict[str, Any]:
    """The numbers and charts of one entry's panel (read from the store)."""
    config = counter.config or counter.configure()
    daily = request.GET.get("stats") == "90d"
    hour = now_hour()
    if daily:
        unit, until = "day", hour // 24
        since = until - 89
        buckets = [
            Bucket(
                _utc(d * 86400).strftime("%Y-%m-%d"),
                _utc(d * 86400).strftime("%b %d") if (until - d) % 15 == 0 else "",
            )
            for d in range(since, until + 1)
        ]
    else:
        unit, until = "hour", hour
        since = until - WEEK_HOURS + 1
        buckets = [
            Bucket(_hour_label(h), _utc(h * 3600).strftime("%a %d") if h % 24 == 0 else "")
            for h in range(since, until + 1)
        ]
    store = counter.store()
    rows = store.series(obj.key, unit, since, until)
    size = until - since + 1
    by_format: dict[str, list[int]] = {}
    by_language: dict[str, list[int]] = {}
    by_status: dict[int, int] = {}
    for bucket, status, fmt, language, n in rows:
        by_format.setdefault(fmt, [0] * size)[bucket - since] += n
        by_language.setdefault(language, [0] * size)[bucket - since] += n
        by_status[status] = by_status.get(status, 0) + n
    total = sum(by_status.values())
    edit = _last_edit_hour(obj)
    marker = None
    if edit is not None:
        marker = (edit // 24 if daily else edit) - since
    span = gettext("per day, last 90 days") if daily else gettext("per hour, last 7 days")
    charts = [
        stacked_bars(
            buckets,
            by_format,
            title=gettext("By format, %s (UTC)") % span,
            marker=marker,
            marker_label=gettext("last edit"),
        ),
        stacked_bars(
            buckets,
            by_language,
            title=gettext("By language, %s (UTC)") % span,
            marker=marker,
            marker_label=gettext("last edit"),
        ),
    ]
    callers = None
    if config.caller_label is not None:
        today = hour // 24
        callers = store.top_callers(obj.key, today - 6, today, TOP_CALLERS)
    last_24h = sum(n for b, _s, _f, _l, n in rows if not daily and b > hour - 24)
    return {
        "daily": daily,
        "total": total,
        "last_24h": last_24h,
        "charts": charts,
        "statuses": sorted(by_status.items()),
        "summary": ngettext("%(n)d response", "%(n)d responses", total) % {"n": total},
        "callers": callers,
        "store": store.name,
        "flush_seconds": config.flush_seconds,
        "edited": _hour_label(edit) if edit is not None else None,
    }


def render_panel(request: HttpRequest, obj: Any) -> str:
    try:
        context = panel_context(request, obj)
    except Exception as exc:
        logger.warning("Error statistics not readable: %s", exc)
        context = {"unavailable": f"{type(exc).__name__}: {exc}"}
    return render_to_string("admin/apierrors/errorcode/stats_panel.html", context, request=request)
