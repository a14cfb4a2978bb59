"""Main-line order, positions and ETA, in closed form (pure functions, no database).

The main line is a weighted round-robin over a queue's lanes. One *cycle* lists lane ids in serving
order: each lane appears ``weight`` times in a block, lanes in their display order (3:1 gives
``[P, P, P, L]``). The queue's *phase* is the index in the cycle of the next slot to serve; "call next"
walks the slots from the phase, skipping lanes with nobody waiting, and leaves the phase just after the
slot it used — so the interleave continues where it was instead of restarting at every change.

Why a closed form works: with no arrivals, lane ``j``'s tickets are taken at its first ``S_j`` slots of
the infinite slot sequence starting at the phase (an emptied lane's later slots are simply skipped). So a
ticket of lane ``i`` with lane rank ``r`` (0-based: ``r`` waiting tickets of its lane are ahead) is
taken at lane ``i``'s ``(r+1)``-th slot, and before it come ``min(S_j, c_j)`` tickets of every other lane
``j``, where ``c_j`` counts lane ``j``'s slots before that slot. Its position is ``1 + r + Σ min(S_j, c_j)``.
No table of positions is stored or rewritten; a lane rank is one indexed count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext, gettext_lazy, ngettext

from queues import eta as eta_model


def build_cycle(lanes: Sequence[tuple[int, int]]) -> list[int]:
    """``lanes``: ``(lane_id, weight)`` in display order → the serving cycle of lane ids."""
    cycle: list[int] = []
    for lane_id, weight in lanes:
        cycle.extend([lane_id] * max(0, int(weight)))
    return cycle


def _slots_before(cycle: Sequence[int], phase: int, lane_id: int, rank: int) -> dict[int, int]:
    """Slots of every lane that come before lane ``lane_id``'s ``(rank+1)``-th slot from ``phase``."""
    size = len(cycle)
    per_cycle = cycle.count(lane_id)
    full_cycles, remainder = divmod(rank, per_cycle)
    counts: dict[int, int] = {}
    for other in set(cycle):
        counts[other] = full_cycles * cycle.count(other)
    seen_own = 0
    for step in range(size):
        slot_lane = cycle[(phase + step) % size]
        if slot_lane == lane_id:
            if seen_own == remainder:
                break
            seen_own += 1
        counts[slot_lane] += 1
    counts.pop(lane_id, None)
    return counts


def position(
    *, cycle: Sequence[int], phase: int, lane_id: int, rank: int, waiting: Mapping[int, int]
) -> int | None:
    """1-based place in the main line of the ticket with lane rank ``rank`` in ``lane_id``.

    ``waiting`` maps lane id → waiting tickets in that lane (the ticket's own lane included). None when
    the lane is not in the cycle (weight 0 or unknown).
    """
    if not cycle or lane_id not in cycle:
        return None
    before = _slots_before(cycle, phase % len(cycle), lane_id, rank)
    return 1 + rank + sum(min(waiting.get(other, 0), slots) for other, slots in before.items())


def interleave(
    *, cycle: Sequence[int], phase: int, heads: Mapping[int, Sequence], limit: int
) -> list[tuple[int, object]]:
    """The first ``limit`` entries of the main line: ``(lane_id, item)`` where ``heads`` gives each lane's
    first waiting items in lane order (at least ``limit`` of them, or all there are)."""
    if not cycle:
        return []
    size = len(cycle)
    taken = dict.fromkeys(heads, 0)
    result: list[tuple[int, object]] = []
    step = phase % size
    idle = 0
    while len(result) < limit and idle < size:
        lane_id = cycle[step]
        items = heads.get(lane_id, ())
        if taken.get(lane_id, 0) < len(items):
            result.append((lane_id, items[taken[lane_id]]))
            taken[lane_id] += 1
            idle = 0
        else:
            idle += 1
        step = (step + 1) % size
    return result


def next_lane(*, cycle: Sequence[int], phase: int, waiting: Mapping[int, int]) -> tuple[int, int] | None:
    """The lane "call next" serves from and the phase after it, or None when nobody is waiting."""
    if not cycle:
        return None
    size = len(cycle)
    for step in range(size):
        index = (phase + step) % size
        if waiting.get(cycle[index], 0) > 0:
            return cycle[index], (index + 1) % size
    return None


def phase_after_serving(*, cycle: Sequence[int], phase: int, lane_id: int) -> int:
    """The phase after a ticket of ``lane_id`` is served out of turn: just past that lane's next slot."""
    if not cycle or lane_id not in cycle:
        return phase
    size = len(cycle)
    for step in range(size):
        index = (phase + step) % size
        if cycle[index] == lane_id:
            return (index + 1) % size
    return phase


def _lane_words(count: int, name: str, tip: str | None) -> str:
    """ "3 priority requests (tip of at least $5.00)"; ``tip`` None: no tip is asked anywhere in the queue,
    "": this lane is free while another asks a tip."""
    words = ngettext("%(count)s %(lane)s request", "%(count)s %(lane)s requests", count) % {
        "count": count,
        "lane": name.lower(),
    }
    if tip is None:
        return words
    if tip:
        return gettext("%(requests)s (tip of at least %(tip)s)") % {"requests": words, "tip": tip}
    return gettext("%(requests)s (free)") % {"requests": words}


def rule_in_words(lanes: Sequence[tuple]) -> str:
    """``lanes``: ``(name, weight)`` or ``(name, weight, minimum tip as text or "")`` in display order,
    the weights the interleave really uses → "For every 3 priority requests (tip of at least $5.00),
    1 personal request (free) is served; …". The minimum tips are named when any lane asks one."""
    active = [(lane[0], lane[1], lane[2] if len(lane) > 2 else "") for lane in lanes if lane[1] > 0]
    if not active:
        return gettext("Nobody is being served from this queue right now.")
    any_tip = any(tip for _name, _weight, tip in active)
    if len(active) == 1:
        name, _weight, tip = active[0]
        if tip:
            return gettext("Everyone is served in the order they joined (tip of at least %(tip)s).") % {
                "tip": tip
            }
        return gettext("Everyone is served in the order they joined.")
    words = [_lane_words(weight, name, tip if any_tip else None) for name, weight, tip in active]
    if len(active) == 2:
        served = active[1][1]
        return ngettext(
            "For every %(first)s, %(second)s is served; within a lane, in the order they joined.",
            "For every %(first)s, %(second)s are served; within a lane, in the order they joined.",
            served,
        ) % {"first": words[0], "second": words[1]}
    return gettext("Served in turns: %(turns)s; within a lane, in the order they joined.") % {
        "turns": gettext(", then ").join(words)
    }


# --- ETA ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Eta:
    low_minutes: int
    high_minutes: int
    basis: str  # "calibrated", "history" or "configured"
    # What was shown, in seconds, with the centre and scale it came from (``queues.accuracy`` scores it).
    forecast: eta_model.Forecast | None = None

    def text(self) -> str:
        """The range in words, in the active language."""
        if self.high_minutes <= 1:
            return gettext("about a minute")
        if self.low_minutes == self.high_minutes:
            return ngettext("about %(count)s minute", "about %(count)s minutes", self.low_minutes) % {
                "count": self.low_minutes
            }
        return ngettext("%(low)s–%(high)s minute", "%(low)s–%(high)s minutes", self.high_minutes) % {
            "low": self.low_minutes,
            "high": self.high_minutes,
        }


NO_ESTIMATE = gettext_lazy("no estimate yet")


def estimate(
    *,
    position: int | None,
    average_seconds: float | None,
    spread_seconds: float | None,
    samples: int,
    default_minutes: int | None,
    calibration: dict | None = None,
) -> Eta | None:
    """Wait until served for the ticket at ``position``, as a range; None when there is nothing to go on.

    With history (``samples`` ≥ 1) the centre is ``position × average``. Once ``calibration`` (the
    queue's ``queues.eta`` state) has enough scored forecasts, the range is the recalibrated one that
    tracks an 80 % hit rate; before that it widens with the spread of recent durations (√n, as for a sum
    of independent durations), never narrower than ±20 %. Without history the configured minutes per
    ticket give a ±50 % range. Otherwise: no estimate.
    """
    if position is None or position < 1:
        return None
    if samples >= 1 and average_seconds:
        centre = position * average_seconds
        scale = math.sqrt(position) * average_seconds
        if eta_model.is_calibrated(calibration):
            shown = eta_model.forecast(position=position, average_seconds=average_seconds, state=calibration)
            low_seconds, high_seconds, basis = shown.low_seconds, shown.high_seconds, "calibrated"
        else:
            margin = max(0.2 * centre, 1.5 * math.sqrt(position) * (spread_seconds or 0.0))
            low_seconds, high_seconds, basis = centre - margin, centre + margin, "history"
    elif default_minutes:
        centre = position * default_minutes * 60.0
        scale = math.sqrt(position) * default_minutes * 60.0
        low_seconds, high_seconds, basis = 0.5 * centre, 1.5 * centre, "configured"
    else:
        return None
    low = max(0, math.floor(low_seconds / 60))
    high = max(1, math.ceil(high_seconds / 60))
    shown = eta_model.Forecast(
        position=position,
        centre_seconds=centre,
        scale_seconds=scale,
        low_seconds=low * 60.0,
        high_seconds=high * 60.0,
        calibrated=basis == "calibrated",
    )
    return Eta(low_minutes=low, high_minutes=high, basis=basis, forecast=shown)
