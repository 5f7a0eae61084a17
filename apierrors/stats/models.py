"""The database store's aggregates (used when the cache is not Redis).

Rows are counts, not responses: one per entry, hour, status, format and language, incremented
by each process's flush (an upsert: ``store.DatabaseStore``). Hours and days are integers
since the Unix epoch in UTC, so every database compares and groups them the same way.
Imported by ``apierrors.models`` so Django registers them with the app.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ErrorStat(models.Model):
    key = models.CharField(_("key"), max_length=100)
    hour = models.PositiveIntegerField(_("hour (since the epoch, UTC)"))
    status = models.PositiveSmallIntegerField(_("HTTP status"))
    format = models.CharField(_("format"), max_length=32)
    language = models.CharField(_("language"), max_length=15)
    count = models.PositiveBigIntegerField(_("responses"), default=0)

    class Meta:
        app_label = "apierrors"
        verbose_name = _("error response count")
        verbose_name_plural = _("error response counts")
        constraints = [
            models.UniqueConstraint(
                fields=["key", "hour", "status", "format", "language"],
                name="apierrors_errorstat_cell",
            ),
        ]
        # The list page and pruning read by hour across entries; an entry's page by key
        # (the unique index's first column).
        indexes = [models.Index(fields=["hour"], name="apierrors_errorstat_hour")]

    def __str__(self) -> str:
        return f"{self.key} @{self.hour}: {self.count}"


class ErrorStatCaller(models.Model):
    """Responses per entry, day and caller; pruned to the top callers once a day is over."""

    key = models.CharField(_("key"), max_length=100)
    day = models.PositiveIntegerField(_("day (since the epoch, UTC)"))
    caller = models.CharField(_("caller"), max_length=150)
    count = models.PositiveBigIntegerField(_("responses"), default=0)

    class Meta:
        app_label = "apierrors"
        verbose_name = _("error response caller")
        verbose_name_plural = _("error response callers")
        constraints = [
            models.UniqueConstraint(
                fields=["key", "day", "caller"], name="apierrors_errorstatcaller_cell"
            ),
        ]
        indexes = [models.Index(fields=["day"], name="apierrors_errorstatcaller_day")]

    def __str__(self) -> str:
        return f"{self.key} {self.caller} @{self.day}: {self.count}"
