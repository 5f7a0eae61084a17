"""Where every process's counts meet: Redis when the cache is Redis, else the database.

Both stores take one flush in one round trip (a Redis ``MULTI``/``EXEC`` pipeline; one
database transaction of multi-row upserts on a connection of the store's own) and answer the
admin's and ``error_stats``' reads with a handful of round trips, never one per entry.

Redis keys (under the cache's ``KEY_PREFIX``), each expiring at the end of its bucket plus
the retention (an entry's hourly detail: 8 days, the most its chart shows):

- ``h:<key>:<hour>`` / ``d:<key>:<day>``: hash ``status\\tformat\\tlanguage`` → count
  (an entry's page: per hour over 7 days, per day over 90);
- ``t:<hour>`` / ``td:<day>``: hash ``key\\tstatus\\tlanguage`` → count (the list page,
  its filters and ``error_stats``);
- ``c:<key>:<day>``: sorted set caller → count, trimmed to the top ``KEEP_CALLERS``.
"""

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Sum

from ..conf import api_settings
from .conf import StatsConfig
from .counter import Callers, Counts

logger = logging.getLogger("apierrors.stats")

PREFIX = "apierrors:stats:v1:"
KEEP_CALLERS = 100  # per entry and day, in the store
HOURLY_DETAIL_DAYS = 8  # an entry's per-hour chart shows 7 days
WEEK_HOURS = 7 * 24
MONTH_DAYS = 30


def now_hour() -> int:
    return int(time.time() // 3600)


@dataclass
class Overview:
    """What the list page needs for every entry at once (one read of the store)."""

    now_hour: int
    # key -> hour -> responses, the last 7 days (hours now_hour - 167 .. now_hour).
    hourly: dict[str, dict[int, int]] = field(default_factory=dict)
    # key -> language -> responses, the last 30 days.
    month: dict[str, dict[str, int]] = field(default_factory=dict)

    def last_hours(self, key: str, hours: int) -> int:
        since = self.now_hour - hours
        return sum(n for h, n in self.hourly.get(key, {}).items() if h > since)

    def trend(self, key: str, step: int = 6) -> list[int]:
        """Responses per ``step`` hours over the last 7 days, oldest first."""
        points = [0] * (WEEK_HOURS // step)
        first = self.now_hour - WEEK_HOURS + 1
        for hour, n in self.hourly.get(key, {}).items():
            index = (hour - first) // step
            if 0 <= index < len(points):
                points[index] += n
        return points

    def returned_keys(self) -> set[str]:
        """Entries returned at least once in the last 30 days."""
        return {key for key, per in self.month.items() if any(per.values())}


# One row of an entry's series: (hour or day, status, format, language, responses).
SeriesRow = tuple[int, int, str, str, int]


class RedisStore:
    name = "redis"

    def __init__(self, cache: RedisCache) -> None:
        self.cache = cache
        self._client: Any = None
        self._lock = threading.Lock()

    def client(self) -> Any:
        # One redis-py client (thread-safe, pooled) for the store's life: Django's RedisCache
        # builds a new one per operation. Kept: the cache API has no pipelines or hashes;
        # tests/test_framework_internals.py fails when Django's get_client() changes.
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self.cache._cache.get_client(None, write=True)
        return self._client

    def k(self, name: str) -> str:
        return self.cache.make_key(PREFIX + name)

    def write(
        self, counts: Counts, callers: Callers, config: StatsConfig, keep_open: bool = True
    ) -> None:
        retention = config.retention_days * 86400
        detail = min(config.retention_days, HOURLY_DETAIL_DAYS) * 86400
        expire: dict[str, int] = {}
        pipe = self.client().pipeline(transaction=True)
        for (key, hour, status, fmt, language), n in sorted(counts.items()):
            day = hour // 24
            dims, totals = f"{status}\t{fmt}\t{language}", f"{key}\t{status}\t{language}"
            hour_end, day_end = (hour + 1) * 3600, (day + 1) * 86400
            for name, fld, at in (
                (f"h:{key}:{hour}", dims, hour_end + detail),
                (f"d:{key}:{day}", dims, day_end + retention),
                (f"t:{hour}", totals, hour_end + retention),
                (f"td:{day}", totals, day_end + retention),
            ):
                redis_key = self.k(name)
                pipe.hincrby(redis_key, fld, n)
                expire[redis_key] = at
        for (key, day), per in sorted(callers.items()):
            redis_key = self.k(f"c:{key}:{day}")
            for caller, n in per.items():
                pipe.zincrby(redis_key, n, caller)
            pipe.zremrangebyrank(redis_key, 0, -(KEEP_CALLERS + 1))
            expire[redis_key] = (day + 1) * 86400 + retention
        for redis_key, at in expire.items():
            pipe.expireat(redis_key, at)
        pipe.execute()

    def _hashes(self, names: list[str]) -> list[dict[str, int]]:
        pipe = self.client().pipeline(transaction=False)
        for name in names:
            pipe.hgetall(self.k(name))
        return [{f.decode(): int(v) for f, v in found.items()} for found in pipe.execute()]

    def overview(self, hour: int) -> Overview:
        hours = list(range(hour - WEEK_HOURS + 1, hour + 1))
        days = list(range(hour // 24 - MONTH_DAYS + 1, hour // 24 + 1))
        found = self._hashes([f"t:{h}" for h in hours] + [f"td:{d}" for d in days])
        out = Overview(hour)
        for h, fields in zip(hours, found[: len(hours)], strict=True):
            for fld, n in fields.items():
                key = fld.split("\t", 1)[0]
                per = out.hourly.setdefault(key, {})
                per[h] = per.get(h, 0) + n
        for fields in found[len(hours) :]:
            for fld, n in fields.items():
                key, _status, language = fld.split("\t", 2)
                per = out.month.setdefault(key, {})
                per[language] = per.get(language, 0) + n
        return out

    def totals(self, since_hour: int, until_hour: int) -> dict[tuple[str, int], int]:
        out: dict[tuple[str, int], int] = defaultdict(int)
        for fields in self._hashes([f"t:{h}" for h in range(since_hour, until_hour + 1)]):
            for fld, n in fields.items():
                key, status, _language = fld.split("\t", 2)
                out[key, int(status)] += n
        return dict(out)

    def series(self, key: str, unit: str, since: int, until: int) -> list[SeriesRow]:
        prefix = "h" if unit == "hour" else "d"
        buckets = list(range(since, until + 1))
        rows = []
        for bucket, fields in zip(
            buckets, self._hashes([f"{prefix}:{key}:{b}" for b in buckets]), strict=True
        ):
            for fld, n in fields.items():
                status, fmt, language = fld.split("\t", 2)
                rows.append((bucket, int(status), fmt, language, n))
        return rows

    def top_callers(
        self, key: str, since_day: int, until_day: int, limit: int
    ) -> list[tuple[str, int]]:
        pipe = self.client().pipeline(transaction=False)
        for day in range(since_day, until_day + 1):
            pipe.zrange(self.k(f"c:{key}:{day}"), 0, -1, withscores=True)
        merged: dict[str, int] = defaultdict(int)
        for members in pipe.execute():
            for caller, score in members:
                merged[caller.decode()] += int(score)
        return sorted(merged.items(), key=lambda item: (-item[1], item[0]))[:limit]

    def close(self) -> None:
        self._client = None  # its pool belongs to the cache


class DatabaseStore:
    """Aggregate rows (``ErrorStat``, ``ErrorStatCaller``) incremented by upserts.

    Writes go through a connection of the store's own (``connections.create_connection``),
    never the request's: a rolled-back request is still counted, and no count rides in a
    request's transaction. The flusher thread keeps its connection open; a ``flush()`` from
    any other thread (a test, ``error_stats``) opens one and closes it. Reads (the admin,
    ``error_stats``) are plain ORM queries.
    """

    name = "database"
    prune_interval = 3600.0

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self._kept: BaseDatabaseWrapper | None = None
        self._next_prune = 0.0

    # -- writing ---------------------------------------------------------------------------

    def write(
        self, counts: Counts, callers: Callers, config: StatsConfig, keep_open: bool = False
    ) -> None:
        connection = (
            self._kept
            if keep_open and self._kept is not None
            else (connections.create_connection(self.alias))
        )
        try:
            self._write(connection, counts, callers)
            if time.monotonic() >= self._next_prune:
                self._next_prune = time.monotonic() + self.prune_interval
                self._prune(connection, config)
        except Exception:
            connection.close()  # a broken connection is not reused
            if connection is self._kept:
                self._kept = None
            raise
        if keep_open:
            self._kept = connection
        else:
            connection.close()

    def _write(self, connection: BaseDatabaseWrapper, counts: Counts, callers: Callers) -> None:
        from .models import ErrorStat, ErrorStatCaller

        # Sorted rows: concurrent flushes from several processes lock rows in one order.
        stat_rows = [(*cell, n) for cell, n in sorted(counts.items())]
        caller_rows = sorted(
            (key, day, caller, n)
            for (key, day), per in callers.items()
            for caller, n in per.items()
        )
        statements = [
            *_upserts(
                connection,
                ErrorStat._meta.db_table,
                ("key", "hour", "status", "format", "language", "count"),
                stat_rows,
            ),
            *_upserts(
                connection,
                ErrorStatCaller._meta.db_table,
                ("key", "day", "caller", "count"),
                caller_rows,
            ),
        ]
        connection.set_autocommit(False)
        try:
            with connection.cursor() as cursor:
                for sql, params in statements:
                    cursor.execute(sql, params)
            connection.commit()
        except Exception:
            connection.rollback()
            raise
        finally:
            connection.set_autocommit(True)

    def _prune(self, connection: BaseDatabaseWrapper, config: StatsConfig) -> None:
        """Drop counts older than the retention; keep the top callers of past days."""
        from .models import ErrorStat, ErrorStatCaller

        qn = connection.ops.quote_name
        stats, callers = qn(ErrorStat._meta.db_table), qn(ErrorStatCaller._meta.db_table)
        oldest_hour = now_hour() - config.retention_days * 24
        today = now_hour() // 24
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {stats} WHERE {qn('hour')} < %s", [oldest_hour])
            cursor.execute(f"DELETE FROM {callers} WHERE {qn('day')} < %s", [oldest_hour // 24])
            cursor.execute(
                f"SELECT {qn('key')}, {qn('day')} FROM {callers} WHERE {qn('day')} < %s "
                f"GROUP BY {qn('key')}, {qn('day')} HAVING COUNT(*) > %s",
                [today, KEEP_CALLERS],
            )
            for key, day in cursor.fetchall():
                cursor.execute(
                    f"SELECT {qn('id')} FROM {callers} WHERE {qn('key')} = %s AND "
                    f"{qn('day')} = %s ORDER BY {qn('count')} DESC, {qn('caller')}",
                    [key, day],
                )
                extra = [row[0] for row in cursor.fetchall()[KEEP_CALLERS:]]
                for chunk in _chunks(extra, 500):
                    cursor.execute(
                        f"DELETE FROM {callers} WHERE {qn('id')} IN "
                        f"({', '.join(['%s'] * len(chunk))})",
                        chunk,
                    )

    # -- reading ---------------------------------------------------------------------------

    def _stats(self) -> Any:
        from .models import ErrorStat

        return ErrorStat.objects.using(self.alias).order_by()

    def overview(self, hour: int) -> Overview:
        out = Overview(hour)
        rows = (
            self._stats()
            .filter(hour__gt=hour - WEEK_HOURS)
            .values_list("key", "hour")
            .annotate(n=Sum("count"))
        )
        for key, h, n in rows:
            out.hourly.setdefault(key, {})[h] = n
        rows = (
            self._stats()
            .filter(hour__gt=hour - MONTH_DAYS * 24)
            .values_list("key", "language")
            .annotate(n=Sum("count"))
        )
        for key, language, n in rows:
            out.month.setdefault(key, {})[language] = n
        return out

    def totals(self, since_hour: int, until_hour: int) -> dict[tuple[str, int], int]:
        rows = (
            self._stats()
            .filter(hour__gte=since_hour, hour__lte=until_hour)
            .values_list("key", "status")
            .annotate(n=Sum("count"))
        )
        return {(key, status): n for key, status, n in rows}

    def series(self, key: str, unit: str, since: int, until: int) -> list[SeriesRow]:
        per = 1 if unit == "hour" else 24
        rows = (
            self._stats()
            .filter(key=key, hour__gte=since * per, hour__lt=(until + 1) * per)
            .values_list("hour", "status", "format", "language")
            .annotate(n=Sum("count"))
        )
        merged: dict[tuple[int, int, str, str], int] = defaultdict(int)
        for hour, status, fmt, language, n in rows:
            merged[hour // per, status, fmt, language] += n
        return [(*cell, n) for cell, n in merged.items()]

    def top_callers(
        self, key: str, since_day: int, until_day: int, limit: int
    ) -> list[tuple[str, int]]:
        from .models import ErrorStatCaller

        rows = (
            ErrorStatCaller.objects.using(self.alias)
            .filter(key=key, day__gte=since_day, day__lte=until_day)
            .values_list("caller")
            .annotate(n=Sum("count"))
            .order_by("-n", "caller")[:limit]
        )
        return list(rows)

    def close(self) -> None:
        kept, self._kept = self._kept, None
        if kept is not None:
            kept.inc_thread_sharing()  # the flusher thread opened it; any thread may close it
            kept.close()


def _chunks(rows: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _upserts(
    connection: BaseDatabaseWrapper,
    table: str,
    columns: tuple[str, ...],
    rows: Iterable[tuple[Any, ...]],
) -> Iterator[tuple[str, list[Any]]]:
    """Multi-row INSERTs adding ``count`` to rows that exist (all columns but the last are
    the unique cell). SQLite, PostgreSQL: ON CONFLICT; MySQL, MariaDB: ON DUPLICATE KEY."""
    qn = connection.ops.quote_name
    cell = ", ".join(qn(c) for c in columns[:-1])
    count = qn(columns[-1])
    if connection.vendor == "mysql":
        tail = f" ON DUPLICATE KEY UPDATE {count} = {count} + VALUES({count})"
    elif connection.vendor in ("postgresql", "sqlite"):
        tail = (
            f" ON CONFLICT ({cell}) DO UPDATE SET {count} = {qn(table)}.{count} + EXCLUDED.{count}"
        )
    else:
        raise ImproperlyConfigured(
            f"apierrors' database store supports SQLite, PostgreSQL, MySQL and MariaDB, not "
            f"{connection.vendor}: use a Redis cache, or APIERRORS['STATS'] = False."
        )
    head = f"INSERT INTO {qn(table)} ({cell}, {count}) VALUES "
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    # 100 rows of at most 6 values: under every backend's limit on parameters.
    for chunk in _chunks(list(rows), 100):
        yield head + ", ".join([one] * len(chunk)) + tail, [v for row in chunk for v in row]


def is_redis(cache: Any) -> bool:
    return isinstance(cache, RedisCache)


def get_store(config: StatsConfig) -> RedisStore | DatabaseStore:
    """The store every process shares, as ``STATS_STORE`` says (``auto`` by default)."""
    alias = api_settings.CACHE_ALIAS
    cache = caches[alias]
    if config.store == "redis" or (config.store == "auto" and is_redis(cache)):
        if not is_redis(cache):
            raise ImproperlyConfigured(
                f"APIERRORS['STATS_STORE'] is 'redis' but CACHES[{alias!r}] is not Django's "
                f"RedisCache."
            )
        return RedisStore(cache)
    from .models import ErrorStat

    return DatabaseStore(router.db_for_write(ErrorStat))
