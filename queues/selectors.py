"""Reads for queues: snapshots, positions, the main line, dashboard lists. Constant query counts whatever
the queue length (lane ranks are one indexed count; the main line is one UNION of per-lane heads)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from core.errors import NotFound
from core.references import normalize_reference
from queues import positions
from queues.models import Lane, Phase, Queue, Ticket, TicketEvent
from queues.workflow import WAITING


@dataclass
class LaneState:
    id: int
    code: str
    name: str
    weight: int
    minimum_tip_cents: int
    enabled: bool
    waiting: int
    now_serving: int | None
    next_turn: int
    version: int
    prefix: str
    eta_text: str = ""

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class QueueSnapshot:
    queue: Queue
    lanes: list[LaneState]
    cycle: list[int] = field(default_factory=list)

    @property
    def waiting(self) -> dict[int, int]:
        return {lane.id: lane.waiting for lane in self.lanes}

    @property
    def phase(self) -> int:
        return self.queue.interleave_phase

    @property
    def total_waiting(self) -> int:
        return sum(lane.waiting for lane in self.lanes)

    def lane(self, lane_id: int) -> LaneState | None:
        return next((lane for lane in self.lanes if lane.id == lane_id), None)

    def rule(self) -> str:
        return positions.rule_in_words([(lane.name, lane.weight) for lane in self.lanes])

    def eta(self, position: int | None) -> positions.Eta | None:
        queue = self.queue
        return positions.estimate(
            position=position,
            average_seconds=queue.service_seconds_average,
            spread_seconds=queue.service_seconds_spread,
            samples=queue.service_samples,
            default_minutes=queue.default_service_minutes,
        )

    def lane_eta(self, lane_id: int) -> positions.Eta | None:
        """ETA for someone joining ``lane_id`` now (behind everyone waiting there)."""
        lane = self.lane(lane_id)
        if lane is None:
            return None
        place = positions.position(
            cycle=self.cycle, phase=self.phase, lane_id=lane_id, rank=lane.waiting, waiting=self.waiting
        )
        return self.eta(place)


def lane_states(queue: Queue) -> list[LaneState]:
    return [
        LaneState(
            id=lane.id,
            code=lane.code,
            name=lane.name,
            weight=lane.weight,
            minimum_tip_cents=lane.minimum_tip_cents,
            enabled=lane.enabled,
            waiting=lane.waiting_count,
            now_serving=lane.now_serving,
            next_turn=lane.next_turn,
            version=lane.version,
            prefix=lane.prefix,
        )
        for lane in Lane.objects.filter(queue=queue).order_by("display_order", "id")
    ]


def queue_snapshot(queue: Queue) -> QueueSnapshot:
    """One query (the lanes); the queue row is the caller's."""
    lanes = lane_states(queue)
    snapshot = QueueSnapshot(
        queue=queue, lanes=lanes, cycle=positions.build_cycle([(lane.id, lane.weight) for lane in lanes])
    )
    for lane in lanes:
        eta = snapshot.lane_eta(lane.id)
        lane.eta_text = eta.text() if eta else positions.NO_ESTIMATE
    return snapshot


def lane_rank(ticket: Ticket) -> int:
    """Waiting tickets of the ticket's lane ahead of it (an index-only count)."""
    return Ticket.objects.filter(
        lane_id=ticket.lane_id, phase=WAITING, lane_sequence__lt=ticket.lane_sequence
    ).count()


def ticket_position(ticket: Ticket, snapshot: QueueSnapshot) -> tuple[int | None, int | None]:
    """(position in the main line, lane rank) for a waiting ticket; (None, None) otherwise."""
    if ticket.phase != WAITING:
        return None, None
    rank = lane_rank(ticket)
    place = positions.position(
        cycle=snapshot.cycle,
        phase=snapshot.phase,
        lane_id=ticket.lane_id,
        rank=rank,
        waiting=snapshot.waiting,
    )
    return place, rank


def main_line(snapshot: QueueSnapshot, *, limit: int = 50) -> list[tuple[int, Ticket]]:
    """The first ``limit`` tickets of the main line with their positions: two queries in all (a UNION
    of each lane's first ``limit`` waiting tickets, then those tickets with their relations)."""
    lane_ids = [lane.id for lane in snapshot.lanes]
    if not lane_ids:
        return []
    parts = [
        Ticket.objects.filter(lane_id=lane_id, phase=WAITING)
        .order_by("lane_sequence")
        .values_list("id", "lane_id", "lane_sequence")[:limit]
        for lane_id in lane_ids
    ]
    rows = list(parts[0].union(*parts[1:], all=True)) if len(parts) > 1 else list(parts[0])
    heads: dict[int, list[int]] = {lane_id: [] for lane_id in lane_ids}
    for ticket_id, lane_id, _sequence in sorted(rows, key=lambda row: row[2]):
        heads[lane_id].append(ticket_id)
    order = positions.interleave(cycle=snapshot.cycle, phase=snapshot.phase, heads=heads, limit=limit)
    tickets = Ticket.objects.select_related("customer", "lane", "assignee").in_bulk(
        [ticket_id for _lane, ticket_id in order]
    )
    return [(index, tickets[ticket_id]) for index, (_lane, ticket_id) in enumerate(order, start=1)]


def ticket_for_status(reference: str) -> Ticket:
    """The ticket with this public reference (any spelling), or NotFound."""
    normalized = normalize_reference(reference)
    if normalized is None:
        raise NotFound("There is no ticket with that reference number. Check it and try again.")
    ticket = (
        Ticket.objects.select_related("queue", "lane", "ticket_type", "tenant", "customer")
        .filter(reference=normalized)
        .first()
    )
    if ticket is None:
        raise NotFound("There is no ticket with that reference number. Check it and try again.")
    return ticket


def ticket_history(ticket: Ticket, *, public: bool = True) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket=ticket).order_by("occurred_at", "id"))


def queues_for_tenant(tenant) -> QuerySet[Queue]:
    return Queue.objects.for_tenant(tenant).select_related("ticket_type").order_by("name")


def public_queues(tenant) -> QuerySet[Queue]:
    return queues_for_tenant(tenant).filter(is_public=True)


def pending_tickets(queue: Queue, *, limit: int = 50) -> list[Ticket]:
    return list(
        Ticket.objects.filter(queue=queue, phase=Phase.PENDING)
        .select_related("customer", "lane")
        .order_by("submitted_at", "id")[:limit]
    )


def serving_tickets(queue: Queue, *, limit: int = 50) -> list[Ticket]:
    return list(
        Ticket.objects.filter(queue=queue, phase=Phase.SERVING)
        .select_related("customer", "lane", "assignee")
        .order_by("started_at", "id")[:limit]
    )


def search_tickets(queue: Queue, *, filters: dict, limit: int = 50) -> QuerySet[Ticket]:
    """Filter by state, phase, lane, assignee ("none" or an id) and free text (reference, name, email)."""
    tickets = Ticket.objects.filter(queue=queue).select_related("customer", "lane", "assignee")
    if filters.get("state"):
        tickets = tickets.filter(state=filters["state"])
    if filters.get("phase"):
        tickets = tickets.filter(phase=filters["phase"])
    if filters.get("lane"):
        tickets = tickets.filter(lane__code=filters["lane"])
    assignee = filters.get("assignee")
    if assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif assignee and str(assignee).isdigit():
        tickets = tickets.filter(assignee_id=int(assignee))
    text = (filters.get("q") or "").strip()
    if text:
        reference = normalize_reference(text)
        condition = (
            Q(customer__name__icontains=text)
            | Q(customer__email__icontains=text)
            | Q(need_text__icontains=text)
            | Q(title__icontains=text)
        )
        if reference:
            condition |= Q(reference=reference)
        tickets = tickets.filter(condition)
    return tickets.order_by("-submitted_at", "-id")[:limit]


def pending_count(queue: Queue) -> int:
    return Ticket.objects.filter(queue=queue, phase=Phase.PENDING).count()
