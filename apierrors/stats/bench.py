"""For ``manage.py bench_errors``: the same call with error statistics on and off.

    from apierrors.stats.bench import on_and_off
    calls = on_and_off(lambda: exception_handler(exc, context).content)
    result = measure(calls, seconds)   # {"stats on": µs, "stats off": µs}

Each callable sets the switch before calling (an attribute write), so the two can be timed
interleaved in one run. "On" is the real path: the in-memory increment, and in a process that
is not a test run the flusher thread writing to the store every ``STATS_FLUSH_SECONDS`` while
the benchmark runs. ``restore()`` puts the project's own settings back afterwards.
"""

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .counter import counter


def on_and_off(func: Callable[[], Any]) -> dict[str, Callable[[], Any]]:
    """``{"stats on": ..., "stats off": ...}``: ``func`` with statistics on, and off."""
    config = counter.config or counter.configure()
    on, off = replace(config, enabled=True), replace(config, enabled=False)

    def with_stats() -> Any:
        counter.config = on
        return func()

    def without_stats() -> Any:
        counter.config = off
        return func()

    return {"stats on": with_stats, "stats off": without_stats}


def restore() -> None:
    """Back to the settings' own STATS (after ``on_and_off`` calls)."""
    counter.config = None
