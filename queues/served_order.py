"""The order in which a queue served its tickets, and a check that it followed the lane rule.

Replay (``served_rows``). The audit trail (``TicketEvent``, one row per transition, in id order: every
change of a queue's line is written under the queue's row lock, so ids follow the order of the changes)
is replayed from the start: who was waiting in which lane, in lane order (``lane_sequence``). Each move
from the waiting phase into the serving phase is one row of the served order, with the number waiting in
every lane just before it and whether the ticket was the first one waiting in its lane. A ticket served
straight from review (never in line) is listed as such and not checked.

Check (``check_served_order``, pure). The rule is the one ``queues.services.ticket_call_next`` applies
(``queues.positions``): a weighted round robin over the lanes in display order, each lane ``weight``
slots per cycle; from the queue's phase (0 when the queue was made) the first slot whose lane has someone
waiting serves that lane's first ticket, and the phase moves just past that slot. A row breaks the rule
when its lane is not the lane the rule gives, or when someone who joined its lane earlier was still
waiting. Staff serving a ticket out of turn shows up here; so does a doctored export.

The weights are the lanes' weights now: a weight changed since the first ticket shows as rows around
the change that break the (new) rule.
"""

from __future__ import annotations

import csv
import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.utils.translation import gettext

from queues import positions
from queues import workflow as wf
from queues.models import Lane, Queue, Ticket, TicketEvent, TicketType


@dataclass
class ServedRow:
    number: int
    ticket_id: int
    reference: str
    lane_id: int
    turn_number: int | None
    served_at: datetime
    from_line: bool
    waiting: dict[int, int] = field(default_factory=dict)  # lane id → waiting just before (this one too)
    first_in_lane: bool = True
    expected_lane_id: int | None = None
    problem: str = ""


@dataclass
class ServedOrder:
    lanes: list[Lane]
    rows: list[ServedRow]
    violations: list[ServedRow]

    @property
    def checked(self) -> int:
        return sum(1 for row in self.rows if row.from_line)

    def lane_name(self, lane_id: int | None) -> str:
        return next((lane.name for lane in self.lanes if lane.pk == lane_id), "—")


class _Lane:
    """One lane's waiting tickets: a heap by lane sequence with lazy removal."""

    def __init__(self):
        self.heap: list[tuple[int, int]] = []
        self.live: dict[int, int] = {}

    def add(self, ticket_id: int, sequence: int) -> None:
        self.live[ticket_id] = sequence
        heapq.heappush(self.heap, (sequence, ticket_id))

    def remove(self, ticket_id: int) -> None:
        self.live.pop(ticket_id, None)

    def first(self) -> int | None:
        while self.heap and self.live.get(self.heap[0][1]) != self.heap[0][0]:
            heapq.heappop(self.heap)
        return self.heap[0][1] if self.heap else None


def served_rows(queue: Queue, lane_ids: Iterable[int]) -> list[ServedRow]:
    """Replay the queue's audit trail into its served order (see the module docstring)."""
    tickets = {
        pk: (type_id, sequence, reference, lane_id, turn)
        for pk, type_id, sequence, reference, lane_id, turn in Ticket.objects.filter(
            tenant_id=queue.tenant_id, queue=queue
        ).values_list("pk", "ticket_type_id", "lane_sequence", "reference", "lane_id", "turn_number")
    }
    phases = {
        ticket_type.pk: ticket_type.machine.phases
        for ticket_type in TicketType.objects.filter(pk__in={row[0] for row in tickets.values()})
    }
    lines = {lane_id: _Lane() for lane_id in lane_ids}
    lane_of: dict[int, int] = {}
    rows: list[ServedRow] = []
    events = (
        TicketEvent.objects.filter(tenant_id=queue.tenant_id, ticket__queue=queue)
        .order_by("id")
        .values_list("ticket_id", "from_state", "to_state", "lane_id", "occurred_at")
    )
    for ticket_id, from_state, to_state, event_lane, occurred_at in events.iterator(chunk_size=2000):
        type_id, sequence, reference, current_lane, turn = tickets[ticket_id]
        machine_phases = phases.get(type_id, {})
        before = machine_phases.get(from_state) if from_state else None
        after = machine_phases.get(to_state)
        new_lane = event_lane or current_lane
        old_lane = lane_of.get(ticket_id, new_lane)
        lane_of[ticket_id] = new_lane
        if after == wf.SERVING and before != wf.SERVING:
            row = ServedRow(
                number=len(rows) + 1,
                ticket_id=ticket_id,
                reference=reference,
                lane_id=old_lane,
                turn_number=turn,
                served_at=occurred_at,
                from_line=before == wf.WAITING,
            )
            if row.from_line:
                row.waiting = {lane_id: len(line.live) for lane_id, line in lines.items()}
                line = lines.get(old_lane)
                row.first_in_lane = line is not None and line.first() == ticket_id
            rows.append(row)
        if before == wf.WAITING and old_lane in lines:
            lines[old_lane].remove(ticket_id)
        if after == wf.WAITING and new_lane in lines:
            lines[new_lane].add(ticket_id, sequence)
    return rows


def check_served_order(
    cycle: Sequence[int], rows: Sequence[ServedRow], lane_names: dict[int, str]
) -> list[ServedRow]:
    """Apply the interleave's rule to ``rows`` (served order, with what was waiting before each); sets
    ``expected_lane_id`` and ``problem`` on each row checked; returns the rows that break the rule."""
    phase = 0
    broken = []
    for row in rows:
        if not row.from_line:
            continue
        choice = positions.next_lane(cycle=cycle, phase=phase, waiting=row.waiting)
        row.expected_lane_id = choice[0] if choice else None
        row.problem = ""
        if row.lane_id not in cycle:
            row.problem = gettext("Its lane is not in the interleave.")
        elif choice is None or row.waiting.get(row.lane_id, 0) < 1:
            row.problem = gettext("Nobody was waiting in its lane by the record.")
        elif choice[0] != row.lane_id:
            row.problem = gettext("Out of turn: the rule gave this turn to %(lane)s.") % {
                "lane": lane_names.get(choice[0], "—")
            }
        elif not row.first_in_lane:
            row.problem = gettext("Someone who joined this lane earlier was still waiting.")
        phase = positions.phase_after_serving(cycle=cycle, phase=phase, lane_id=row.lane_id)
        if row.problem:
            broken.append(row)
    return broken


def served_order(queue: Queue) -> ServedOrder:
    """The queue's served order checked against its lanes' weights (two queries plus the trail)."""
    lanes = list(Lane.objects.filter(queue=queue).order_by("display_order", "id"))
    cycle = positions.build_cycle([(lane.pk, lane.weight) for lane in lanes])
    rows = served_rows(queue, [lane.pk for lane in lanes])
    violations = check_served_order(cycle, rows, {lane.pk: lane.name for lane in lanes})
    return ServedOrder(lanes=lanes, rows=rows, violations=violations)


# --- CSV ------------------------------------------------------------------------------------------


def _cell(value) -> str:
    """A spreadsheet cell that cannot run as a formula (tenant-written text: lane names)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(order: ServedOrder) -> Iterator[str]:
    """The served order as CSV lines: one row per ticket served, what was waiting in each lane just
    before, the lane the rule gave that turn, and whether the row follows the rule."""
    writer = csv.writer(_Echo())
    lanes = order.lanes
    yield writer.writerow(
        [
            gettext("order"),
            gettext("served at (UTC)"),
            gettext("reference"),
            gettext("lane"),
            gettext("turn"),
            gettext("from the line"),
            *[gettext("waiting in %(lane)s") % {"lane": _cell(lane.name)} for lane in lanes],
            gettext("first in its lane"),
            gettext("lane by the rule"),
            gettext("follows the rule"),
            gettext("problem"),
        ]
    )
    names = {lane.pk: lane.name for lane in lanes}
    yes, no = gettext("yes"), gettext("no")
    for row in order.rows:
        yield writer.writerow(
            [
                row.number,
                row.served_at.astimezone(UTC).isoformat(timespec="seconds"),
                row.reference,
                _cell(names.get(row.lane_id, "—")),
                row.turn_number or "",
                yes if row.from_line else no,
                *[row.waiting.get(lane.pk, "") if row.from_line else "" for lane in lanes],
                (yes if row.first_in_lane else no) if row.from_line else "",
                _cell(names.get(row.expected_lane_id, "")) if row.from_line else "",
                (no if row.problem else yes) if row.from_line else "",
                row.problem,
            ]
        )
