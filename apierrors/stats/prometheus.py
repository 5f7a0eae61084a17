"""``apierrors_error_responses_total{key,status,format}`` in prometheus_client's registry,
when prometheus_client is installed (django-prometheus projects have it).

The counter advances when this process flushes (every ``STATS_FLUSH_SECONDS``), not on the
response itself: the hot path stays one in-memory increment. Multi-process servers follow
prometheus_client's own rules: set ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory) before
the server starts and serve ``/metrics`` through a ``MultiProcessCollector``; a counter needs
no ``mark_process_dead``. Each process increments its own values there, once per response.
"""

import threading
from collections import defaultdict
from typing import Any

try:
    import prometheus_client
except ImportError:  # optional
    prometheus_client = None

NAME = "apierrors_error_responses"
_metric: Any = None
_lock = threading.Lock()


def metric() -> Any:
    """The counter, registered once in prometheus_client's default registry."""
    global _metric
    if _metric is None and prometheus_client is not None:
        with _lock:
            if _metric is None:
                registered = prometheus_client.REGISTRY._names_to_collectors.get(NAME)
                _metric = registered or prometheus_client.Counter(
                    NAME,
                    "Error responses returned by apierrors, by dictionary entry, HTTP "
                    "status and body format.",
                    ["key", "status", "format"],
                )
    return _metric


def observe(counts: dict[tuple[str, int, int, str, str], int]) -> None:
    """Add a flushed batch (cells as in ``counter.Cell``) to the counter."""
    counter = metric()
    if counter is None:
        return
    sums: dict[tuple[str, str, str], int] = defaultdict(int)
    for (key, _hour, status, fmt, _language), n in counts.items():
        sums[key, str(status), fmt] += n
    for labels, n in sums.items():
        counter.labels(*labels).inc(n)
