"""A server-rendered SVG chart of the ETA hit rate per day against the 80 % target (no JavaScript, no
inline styles: presentation attributes only, colours from the stylesheet's classes). Every value in the
markup is a number or a date formatted here, escaped; a table next to the chart gives
the same figures to screen readers."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from queues import eta

WIDTH, HEIGHT = 600, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 36


def _y(rate: float) -> float:
    return TOP + (1 - rate) * (HEIGHT - TOP - BOTTOM)


def hit_rate_svg(days: list, *, title: str) -> SafeString:
    """``days``: objects with ``day`` (ISO date), ``shown`` and ``rate`` (percent; None when nothing
    scored). Numbers are formatted here; the only text (title, dates) is escaped."""
    span = max(1, len(days) - 1)
    plot_width = WIDTH - LEFT - RIGHT

    def x(index: int) -> float:
        return LEFT + (index * plot_width / span if len(days) > 1 else plot_width / 2)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-labelledby="eta-chart-title eta-chart-desc">',
        f'<title id="eta-chart-title">{escape(title)}</title>',
    ]
    indexed = [(index, day) for index, day in enumerate(days) if day.rate is not None]
    summary = (
        ngettext(
            "%(days)s day; served inside the range shown on the latest: %(rate)s%%",
            "%(days)s days; served inside the range shown on the latest: %(rate)s%%",
            len(indexed),
        )
        % {"days": len(indexed), "rate": round(indexed[-1][1].rate)}
        if indexed
        else gettext("no days with scored forecasts")
    )
    parts.append(f'<desc id="eta-chart-desc">{escape(summary)}</desc>')
    for value in (0, 25, 50, 75, 100):
        y = _y(value / 100)
        parts.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="chart-axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value}%</text>'
        )
    target_y = _y(eta.TARGET)
    parts.append(
        f'<line class="chart-target" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
        f'y1="{target_y:.1f}" y2="{target_y:.1f}"/>'
        f'<text class="chart-target-label" x="{WIDTH - RIGHT}" y="{target_y - 4:.1f}" text-anchor="end">'
        f"target {round(eta.TARGET * 100)}%</text>"
    )
    points = " ".join(f"{x(i):.1f},{_y(d.rate / 100):.1f}" for i, d in indexed)
    parts.append(f'<polyline class="chart-line" fill="none" points="{points}"/>')
    for i, d in indexed:
        parts.append(
            f'<circle class="chart-dot" cx="{x(i):.1f}" cy="{_y(d.rate / 100):.1f}" r="4">'
            f"<title>{escape(d.day)}: {round(d.rate)}% of {int(d.shown)}</title></circle>"
        )
    for i, d in enumerate(days):
        if i in (0, len(days) - 1):
            parts.append(
                f'<text class="chart-axis" x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 18}" '
                f'text-anchor="middle">{escape(d.day[5:])}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers formatted here, every text escaped above
