"""A small server-rendered SVG bar chart of tickets sold per day (no JavaScript, no library)."""

from __future__ import annotations

from django.utils.formats import date_format

WIDTH, HEIGHT, PAD = 600, 180, 24


def sales_chart(per_day: list[dict]) -> dict:
    """Bars (x, y, width, height, label, count) in a ``WIDTH`` × ``HEIGHT`` viewBox, plus the cumulative
    total line as points. ``per_day`` items are ``{"day": date, "count": int}``."""
    if not per_day:
        return {"bars": [], "width": WIDTH, "height": HEIGHT, "max": 0, "points": ""}
    days = per_day[-30:]
    peak = max(row["count"] for row in days) or 1
    slot = (WIDTH - 2 * PAD) / len(days)
    bar_width = max(2.0, slot * 0.7)
    bars, points, running = [], [], 0
    total = sum(row["count"] for row in days) or 1
    for index, row in enumerate(days):
        height = (HEIGHT - 2 * PAD) * row["count"] / peak
        x = PAD + index * slot + (slot - bar_width) / 2
        bars.append(
            {
                "x": round(x, 1),
                "y": round(HEIGHT - PAD - height, 1),
                "width": round(bar_width, 1),
                "height": round(height, 1),
                "label": date_format(row["day"], "j M") if row["day"] else "",
                "count": row["count"],
                "label_x": round(x + bar_width / 2, 1),
            }
        )
        running += row["count"]
        points.append(
            f"{round(x + bar_width / 2, 1)},{round(HEIGHT - PAD - (HEIGHT - 2 * PAD) * running / total, 1)}"
        )
    return {
        "bars": bars,
        "width": WIDTH,
        "height": HEIGHT,
        "max": peak,
        "points": " ".join(points),
        "baseline": HEIGHT - PAD,
    }
