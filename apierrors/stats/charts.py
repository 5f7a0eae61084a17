"""Charts as SVG, rendered on the server: readable without JavaScript, styled inline so they
read the same without the admin's stylesheet, with native ``<title>`` tooltips.

Every text that comes from data (formats, languages, labels) is escaped.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Colour-blind-safe (Okabe-Ito), in order of each series' total.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")
OTHER_COLOUR = "#8c959f"
MAX_SERIES = 7  # more are summed into "other"


def sparkline(values: Sequence[int], label: str, width: int = 96, height: int = 20) -> SafeString:
    """A small trend line (oldest first); an all-zero series is a flat grey line."""
    top = max(values, default=0)
    n = max(len(values) - 1, 1)
    pad = 2
    points = " ".join(
        f"{pad + i * (width - 2 * pad) / n:.1f},"
        f"{height - pad - (v / top if top else 0) * (height - 2 * pad):.1f}"
        for i, v in enumerate(values)
    )
    colour = PALETTE[0] if top else OTHER_COLOUR
    area = (
        (
            f'<polygon points="{pad},{height - pad} {points} {width - pad},{height - pad}" '
            f'fill="{colour}" fill-opacity="0.15" stroke="none"/>'
        )
        if top
        else ""
    )
    return mark_safe(
        f'<svg class="apierrors-spark" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" data-max="{top}"><title>{escape(label)}</title>{area}'
        f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5" '
        f'stroke-linejoin="round"/></svg>'
    )


@dataclass(frozen=True)
class Bucket:
    label: str  # the tooltip's time, e.g. "2026-11-30 14:00 UTC"
    tick: str = ""  # an axis label under this bar, if any


def stacked_bars(
    buckets: Sequence[Bucket],
    series: Mapping[str, Sequence[int]],
    *,
    title: str,
    marker: int | None = None,
    marker_label: str = "",
    width: int = 760,
    height: int = 190,
) -> SafeString:
    """Bars per bucket, stacked by series (e.g. per format), with a legend and y scale.

    ``marker`` draws a dashed line at that bucket (the entry's last edit).
    """
    names = sorted(series, key=lambda s: (-sum(series[s]), s))
    if len(names) > MAX_SERIES:
        kept, rest = names[: MAX_SERIES - 1], names[MAX_SERIES - 1 :]
        merged = {name: list(series[name]) for name in kept}
        merged["other"] = [sum(series[r][i] for r in rest) for i in range(len(buckets))]
        series, names = merged, [*kept, "other"]
    colours = {
        name: PALETTE[i] if name != "other" else OTHER_COLOUR for i, name in enumerate(names)
    }
    totals = [sum(series[name][i] for name in names) for i in range(len(buckets))]
    grand = sum(totals)
    top = _nice_ceiling(max(totals, default=0))
    left, right, upper, lower = 40, 8, 26, 22
    plot_w, plot_h = width - left - right, height - upper - lower
    step = plot_w / max(len(buckets), 1)
    bar_w = max(step * 0.8, 1.0) if step > 2 else step
    out = [
        f'<svg class="apierrors-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" data-total="{grand}" data-buckets="{len(buckets)}" '
        f'font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="14" font-weight="bold" fill="#24292f">{escape(title)}</text>',
    ]
    # Legend, right-aligned on the title's line.
    texts = [f"{name} ({sum(series[name])})" for name in names]
    x = width - right - sum(7 * len(text) + 22 for text in texts)
    for name, text in zip(names, texts, strict=True):
        out.append(
            f'<g class="legend" data-series="{escape(name)}">'
            f'<rect x="{x}" y="5" width="10" height="10" fill="{colours[name]}"/>'
            f'<text x="{x + 14}" y="14" fill="#24292f">{escape(text)}</text></g>'
        )
        x += 7 * len(text) + 22
    # Y scale: 0, half, top.
    for fraction in (0, 0.5, 1):
        y = upper + plot_h * (1 - fraction)
        value = top * fraction
        label = f"{value:g}" if value != int(value) else f"{int(value)}"
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#d0d7de" stroke-width="1"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" '
            f'fill="#57606a">{label}</text>'
        )
    for i, bucket in enumerate(buckets):
        x0 = left + i * step + (step - bar_w) / 2
        if bucket.tick:
            out.append(
                f'<line x1="{left + i * step:.1f}" x2="{left + i * step:.1f}" '
                f'y1="{upper + plot_h}" y2="{upper + plot_h + 4}" stroke="#57606a"/>'
                f'<text x="{left + i * step:.1f}" y="{height - 6}" '
                f'fill="#57606a">{escape(bucket.tick)}</text>'
            )
        if not totals[i]:
            continue
        parts = ", ".join(f"{name} {series[name][i]}" for name in names if series[name][i])
        out.append(
            f'<g class="bar" data-total="{totals[i]}"><title>'
            f"{escape(bucket.label)}: {totals[i]} ({escape(parts)})</title>"
        )
        y = upper + plot_h
        for name in names:
            value = series[name][i]
            if not value:
                continue
            h = plot_h * value / top
            y -= h
            out.append(
                f'<rect x="{x0:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{max(h, 0.5):.1f}" fill="{colours[name]}"/>'
            )
        out.append("</g>")
    if marker is not None and 0 <= marker < len(buckets):
        mx = left + (marker + 0.5) * step
        out.append(
            f'<g class="marker"><line x1="{mx:.1f}" x2="{mx:.1f}" y1="{upper - 4}" '
            f'y2="{upper + plot_h}" stroke="#cf222e" stroke-dasharray="3,2"/>'
            f'<text x="{mx + 3:.1f}" y="{upper + 8}" fill="#cf222e">'
            f"{escape(marker_label)}</text></g>"
        )
    if not grand:
        out.append(
            f'<text x="{left + plot_w / 2:.0f}" y="{upper + plot_h / 2:.0f}" '
            f'text-anchor="middle" fill="#57606a">no responses</text>'
        )
    out.append("</svg>")
    return mark_safe("".join(out))


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2 or 5 times a power of ten at or above ``value``."""
    if value <= 1:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for factor in (1, 2, 5, 10):
        if value <= factor * magnitude:
            return factor * magnitude
    return value  # pragma: no cover
