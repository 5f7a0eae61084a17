"""``manage.py error_stats [--hours N] [--json]``: the errors returned lately, most frequent
first, from the store every process shares (after flushing this process's own counts)."""

import datetime
import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apierrors.dictionary.catalog import get_entry
from apierrors.stats import flush
from apierrors.stats.counter import counter
from apierrors.stats.store import now_hour


class Command(BaseCommand):
    help = (
        "Print the error responses returned in the last N hours (default 24), most "
        "frequent first, from apierrors' error statistics."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--hours", type=int, default=24, help="how far back, in hours (default 24)"
        )
        parser.add_argument(
            "--json",
            action="store_true",
            dest="as_json",
            help='print {"since": ..., "errors": [...]} instead of a table',
        )

    def handle(self, *args: Any, hours: int, as_json: bool, **options: Any) -> None:
        if hours < 1:
            raise CommandError("--hours must be 1 or more.")
        config = counter.config or counter.configure()
        if hours > config.retention_days * 24:
            raise CommandError(
                f"--hours can be at most {config.retention_days * 24}: counts "
                f"are kept {config.retention_days} days "
                f"(APIERRORS['STATS_RETENTION_DAYS'])."
            )
        flush()
        until = now_hour()
        # Whole hour buckets: the one holding the moment N hours ago, up to the current one.
        since = int((time.time() - hours * 3600) // 3600)
        try:
            totals = counter.store().totals(since, until)
        except Exception as exc:
            raise CommandError(
                f"Error statistics not readable: {type(exc).__name__}: {exc}"
            ) from exc
        errors = sorted(
            (
                {"key": key, "error_code": get_entry(key).error_code, "status": status, "count": n}
                for (key, status), n in totals.items()
                if n
            ),
            key=lambda e: (-e["count"], e["key"], e["status"]),
        )
        since_iso = datetime.datetime.fromtimestamp(since * 3600, tz=datetime.UTC).isoformat()
        if as_json:
            self.stdout.write(json.dumps({"since": since_iso, "errors": errors}, indent=2))
            return
        self.stdout.write(
            f"Error responses since {since_iso} (last {hours} h), "
            f"from the {counter.store().name} store:"
        )
        if not errors:
            self.stdout.write("none")
            return
        width = max(len("key"), *(len(e["key"]) for e in errors))
        self.stdout.write(f"{'count':>8}  {'key':<{width}}  {'error_code':>10}  {'status':>6}")
        for e in errors:
            self.stdout.write(
                f"{e['count']:>8}  {e['key']:<{width}}  {e['error_code']:>10}  {e['status']:>6}"
            )
        self.stdout.write(f"{sum(e['count'] for e in errors):>8}  total")
