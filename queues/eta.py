"""ETA ranges that are checked against what happened, and recalibrate to hit 80 % (pure, no database).

A forecast for someone at ``position`` (1 = next) is centred on ``position × average`` (the average of
recent service times, or of admission gaps in a waiting room) and scaled by ``√position × average``, the
spread of a sum of ``position`` independent service times. When the person is served, the forecast's
normalised error ``z = (actual − centre) / scale`` is kept (the last ``WINDOW``).

The range is ``centre + scale × [q(α/2), q(1 − α/2)]`` over those recent ``z`` (quantiles, linear
interpolation). ``α`` is recalibrated after every resolved forecast by adaptive conformal inference
(Gibbs & Candès 2021): ``α ← α + γ × (TARGET_MISS − missed)``. A run of misses lowers ``α`` and widens
the range; a run of hits narrows it; over time the share of people served inside the range they were
shown converges to ``TARGET`` (80 %) whatever the service-time distribution, and follows it when the
distribution changes. With fewer than ``MIN_SAMPLES`` resolved forecasts there is no calibration and the
pages say so.

The calibration state is a small JSON dict kept on the queue (or waiting room) row:
``{"alpha": float, "z": [float…], "low_z": float, "high_z": float, "samples": int,
"hits": int, "shown": int}`` (``hits``/``shown``: calibrated forecasts resolved, all time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

TARGET = 0.80
TARGET_MISS = 1 - TARGET
GAMMA = 0.005
WINDOW = 300
MIN_SAMPLES = 20
ALPHA_BOUNDS = (0.002, 0.998)


def new_state() -> dict:
    return {"alpha": TARGET_MISS, "z": [], "low_z": None, "high_z": None, "samples": 0, "hits": 0, "shown": 0}


def quantile(ordered: list[float], q: float) -> float:
    """Linear-interpolation quantile of an ascending list (q in [0, 1])."""
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _bounds(state: dict) -> None:
    zs = sorted(state["z"])
    if len(zs) < MIN_SAMPLES:
        state["low_z"] = state["high_z"] = None
        return
    alpha = min(max(state["alpha"], ALPHA_BOUNDS[0]), ALPHA_BOUNDS[1])
    state["low_z"] = round(quantile(zs, alpha / 2), 6)
    state["high_z"] = round(quantile(zs, 1 - alpha / 2), 6)


def calibration_bounds(state: dict | None) -> dict | None:
    """The part of the state a page needs to draw ranges (for broadcasts: no error history)."""
    if not is_calibrated(state):
        return None
    return {"low_z": state["low_z"], "high_z": state["high_z"]}


def is_calibrated(state: dict | None) -> bool:
    return bool(state) and state.get("low_z") is not None and state.get("high_z") is not None


@dataclass(frozen=True)
class Forecast:
    position: int
    centre_seconds: float
    scale_seconds: float
    low_seconds: float
    high_seconds: float
    calibrated: bool


def forecast(*, position: int, average_seconds: float, state: dict | None) -> Forecast | None:
    """The range for ``position``; None without a positive average. Uncalibrated (too little history):
    ±(20 % of the centre or 1.5 × scale, whichever is wider), marked ``calibrated=False``."""
    if position < 1 or not average_seconds or average_seconds <= 0:
        return None
    centre = position * average_seconds
    scale = math.sqrt(position) * average_seconds
    if is_calibrated(state):
        low = max(0.0, centre + scale * state["low_z"])
        high = max(low, centre + scale * state["high_z"])
        return Forecast(position, centre, scale, low, high, True)
    margin = max(0.2 * centre, 1.5 * scale)
    return Forecast(position, centre, scale, max(0.0, centre - margin), centre + margin, False)


def resolve(state: dict, *, centre: float, scale: float, low: float, high: float, calibrated: bool,
            actual_seconds: float) -> bool:  # fmt: skip
    """Learn from one served person's forecast (in the order people were served); returns hit or miss.
    Mutates ``state``."""
    hit = low <= actual_seconds <= high
    if scale > 0:
        state["z"].append((actual_seconds - centre) / scale)
        del state["z"][:-WINDOW]
        state["samples"] += 1
    if calibrated:
        state["alpha"] += GAMMA * (TARGET_MISS - (0.0 if hit else 1.0))
        state["shown"] += 1
        state["hits"] += int(hit)
    _bounds(state)
    return hit


def hit_rate(hits: int, shown: int) -> float | None:
    return hits / shown if shown else None


def rounded(shown: Forecast) -> Forecast:
    """The range as pages show it (whole minutes, at least "about a minute"): what gets scored."""
    low = max(0, math.floor(shown.low_seconds / 60))
    high = max(1, low, math.ceil(shown.high_seconds / 60))
    return Forecast(shown.position, shown.centre_seconds, shown.scale_seconds, low * 60.0, high * 60.0,
                    shown.calibrated)  # fmt: skip


def minutes_text(low_seconds: float, high_seconds: float) -> str:
    low, high = max(0, math.floor(low_seconds / 60)), max(1, math.ceil(high_seconds / 60))
    from django.utils.translation import gettext, ngettext

    if high <= 1:
        return gettext("about a minute")
    if low == high:
        return ngettext("about %(count)s minute", "about %(count)s minutes", low) % {"count": low}
    return ngettext("%(low)s–%(high)s minute", "%(low)s–%(high)s minutes", high) % {"low": low, "high": high}
