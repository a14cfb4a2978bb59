"""Reads for queues: snapshots, positions, the main line, dashboard lists. Constant query counts whatever
the queue length (lane ranks are one indexed count; the main line is one UNION of per-lane heads)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext

from core.errors import NotFound
from core.money import format_money
from core.references import normalize_reference
from queues import positions
from queues.models import BLOCK_SIZE, Lane, Phase, Queue, QueueKind, Ticket, TicketComment, TicketEvent
from queues.workflow import WAITING
from tenants.models import Role


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
    eta: object = None  # positions.Eta or None (no estimate)

    @property
    def eta_text(self) -> str:
        """The wait if one joins now, in the active language."""
        return self.eta.text() if self.eta else str(positions.NO_ESTIMATE)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class QueueSnapshot:
    queue: Queue
    lanes: list[LaneState]
    cycle: list[int] = field(default_factory=list)
    lane_models: dict[int, Lane] = field(default_factory=dict)
    ranks: dict[int, int] = field(default_factory=dict)

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
        """The interleave's rule in words, from the lanes' real weights and minimum tips."""
        tips = {lane.id: "" for lane in self.lanes}
        if any(lane.minimum_tip_cents for lane in self.lanes):
            currency = self.queue.tenant.currency
            for lane in self.lanes:
                if lane.minimum_tip_cents:
                    tips[lane.id] = format_money(lane.minimum_tip_cents, currency)
        return positions.rule_in_words([(lane.name, lane.weight, tips[lane.id]) for lane in self.lanes])

    def eta(self, position: int | None) -> positions.Eta | None:
        queue = self.queue
        return positions.estimate(
            position=position,
            average_seconds=queue.service_seconds_average,
            spread_seconds=queue.service_seconds_spread,
            samples=queue.service_samples,
            default_minutes=queue.default_service_minutes,
            calibration=queue.eta_calibration,
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


def lane_states(queue: Queue, models: dict | None = None, rank_for: Ticket | None = None) -> list[LaneState]:
    lanes = Lane.objects.filter(queue=queue).order_by("display_order", "id")
    if rank_for is not None:
        # The ticket's lane rank rides along in the lanes query (one round trip for the status page).
        sql, params = rank_sql(rank_for.lane_id, rank_for.lane_sequence)
        lanes = lanes.annotate(
            # A constant SQL text with bound parameters only (no user input in the string).
            ticket_rank=RawSQL(f"CASE WHEN queues_lane.id = %s THEN {sql} END", [rank_for.lane_id, *params])  # noqa: S611
        )
    lanes = list(lanes)
    if models is not None:
        models.update({lane.pk: lane for lane in lanes})
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
        for lane in lanes
    ]


def queue_snapshot(queue: Queue, *, rank_for: Ticket | None = None) -> QueueSnapshot:
    """One query (the lanes, plus the lane rank of ``rank_for`` when given); the queue row is the caller's."""
    models: dict[int, Lane] = {}
    if rank_for is not None and rank_for.phase != WAITING:
        rank_for = None
    lanes = lane_states(queue, models, rank_for)
    snapshot = QueueSnapshot(
        queue=queue,
        lanes=lanes,
        cycle=positions.build_cycle([(lane.id, lane.weight) for lane in lanes]),
        lane_models=models,
    )
    if rank_for is not None:
        snapshot.ranks[rank_for.pk] = int(models[rank_for.lane_id].ticket_rank)
    for lane in lanes:
        lane.eta = snapshot.lane_eta(lane.id)
    return snapshot


RANK_SQL = (
    "(SELECT COALESCE(SUM(b.waiting), 0) FROM queues_laneblock b WHERE b.lane_id = %(lane)s "
    "AND b.block < %(block)s) + (SELECT count(*) FROM queues_ticket t WHERE t.lane_id = %(lane)s "
    "AND t.phase = 'waiting' AND t.lane_sequence >= %(start)s AND t.lane_sequence < %(sequence)s)"
)


def rank_sql(lane_id: int, sequence: int) -> tuple[str, list]:
    """RANK_SQL with positional parameters (for RawSQL)."""
    block = sequence // BLOCK_SIZE
    sql = RANK_SQL.replace("%(lane)s", "%s").replace("%(block)s", "%s")
    sql = sql.replace("%(start)s", "%s").replace("%(sequence)s", "%s")
    return sql, [lane_id, block, lane_id, block * BLOCK_SIZE, sequence]


def rank_params(lane_id: int, sequence: int) -> dict:
    block = sequence // BLOCK_SIZE
    return {"lane": lane_id, "block": block, "start": block * BLOCK_SIZE, "sequence": sequence}


def lane_rank(ticket: Ticket) -> int:
    """Waiting tickets of the ticket's lane ahead of it: the blocks before its block plus a count of at
    most BLOCK_SIZE index entries inside it (see LaneBlock)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {RANK_SQL}", rank_params(ticket.lane_id, ticket.lane_sequence))
        return int(cursor.fetchone()[0])


def ticket_position(ticket: Ticket, snapshot: QueueSnapshot) -> tuple[int | None, int | None]:
    """(position in the main line, lane rank) for a waiting ticket; (None, None) otherwise."""
    if ticket.phase != WAITING:
        return None, None
    rank = snapshot.ranks[ticket.pk] if ticket.pk in snapshot.ranks else lane_rank(ticket)
    place = positions.position(
        cycle=snapshot.cycle,
        phase=snapshot.phase,
        lane_id=ticket.lane_id,
        rank=rank,
        waiting=snapshot.waiting,
    )
    return place, rank


@dataclass
class Person:
    name: str = ""
    email: str = ""
    phone: str = ""

    def __str__(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.name or self.email


@dataclass
class LineEntry:
    """A ticket of the main line, read as plain values (no model instances: the dashboard shows 50 of
    them on every refresh)."""

    pk: int
    reference: str
    state: str
    phase: str
    lane: Lane
    turn_number: int | None
    expires_at: object
    customer: Person | None
    assignee: Person | None
    machine: object = None  # the queue's workflow, for the state's label

    @property
    def state_label(self) -> str:
        return self.machine.state_label(self.state) if self.machine else self.state.replace("_", " ")

    @property
    def turn_label(self) -> str:
        return f"{self.lane.prefix}-{self.turn_number}" if self.turn_number else ""

    @property
    def contact(self) -> Person:
        return self.customer or Person()

    def is_expired(self, now) -> bool:
        return self.expires_at is not None and self.expires_at < now and self.phase in (WAITING, "pending")


LINE_VALUES = (
    "id",
    "lane_id",
    "lane_sequence",
    "reference",
    "state",
    "phase",
    "turn_number",
    "expires_at",
    "customer_id",
    "contact_name",
    "contact_email",
    "assignee_id",
    "assignee__name",
    "assignee__email",
)


def main_line(snapshot: QueueSnapshot, *, limit: int = 50) -> list[tuple[int, LineEntry]]:
    """The first ``limit`` tickets of the main line with their positions, in one query: a UNION of each
    lane's first waiting tickets (index scans) carrying what the dashboard shows; the interleave then
    picks the order in Python."""
    lane_ids = [lane.id for lane in snapshot.lanes]
    if not lane_ids:
        return []
    # How many each lane contributes to the first ``limit`` places follows from the counters alone, so
    # each lane's scan reads that many (plus one, should a counter lag a concurrent change).
    planned = positions.interleave(
        cycle=snapshot.cycle,
        phase=snapshot.phase,
        heads={lane.id: range(min(lane.waiting, limit)) for lane in snapshot.lanes},
        limit=limit,
    )
    wanted = dict.fromkeys(lane_ids, 1)
    for lane_id, _index in planned:
        wanted[lane_id] += 1
    parts = [
        Ticket.objects.filter(lane_id=lane_id, phase=WAITING)
        .order_by("lane_sequence")
        .values(*LINE_VALUES)[: min(limit, wanted[lane_id])]
        for lane_id in lane_ids
    ]
    rows = list(parts[0].union(*parts[1:], all=True)) if len(parts) > 1 else list(parts[0])
    heads: dict[int, list[LineEntry]] = {lane_id: [] for lane_id in lane_ids}
    machine = snapshot.queue.ticket_type.machine
    for row in sorted(rows, key=lambda row: row["lane_sequence"]):
        heads[row["lane_id"]].append(
            LineEntry(
                pk=row["id"],
                reference=row["reference"],
                state=row["state"],
                phase=row["phase"],
                lane=snapshot.lane_models[row["lane_id"]],
                turn_number=row["turn_number"],
                expires_at=row["expires_at"],
                # What this ticket was submitted with, not the shared customer record.
                customer=Person(row["contact_name"], row["contact_email"]) if row["customer_id"] else None,
                assignee=Person(row["assignee__name"], row["assignee__email"])
                if row["assignee_id"]
                else None,
                machine=machine,
            )
        )
    order = positions.interleave(cycle=snapshot.cycle, phase=snapshot.phase, heads=heads, limit=limit)
    return [(index, entry) for index, (_lane, entry) in enumerate(order, start=1)]


def ticket_for_status(reference: str) -> Ticket:
    """The ticket with this public reference (any spelling), or NotFound."""
    normalized = normalize_reference(reference)
    if normalized is None:
        raise NotFound(gettext("There is no ticket with that reference number. Check it and try again."))
    ticket = (
        Ticket.objects.select_related("queue__tenant", "lane", "ticket_type", "tenant", "customer")
        .filter(reference=normalized)
        .first()
    )
    if ticket is None:
        raise NotFound(gettext("There is no ticket with that reference number. Check it and try again."))
    return ticket


def ticket_history(ticket: Ticket, *, public: bool = True) -> list[TicketEvent]:
    """The ticket's history, oldest first. The public one (status page) leaves out the staff's item
    edits (``item_*`` rows), which are the team's bookkeeping."""
    events = TicketEvent.objects.filter(ticket=ticket)
    if public:
        events = events.exclude(event__startswith="item_")
    events = list(events.order_by("occurred_at", "id"))
    for event in events:
        event.ticket = ticket  # their words come from the ticket's workflow: no query per row
    return events


def public_comments(ticket: Ticket) -> list[TicketComment]:
    """The comments the customer's status page shows: public ones (the team's and the customer's own),
    oldest first; internal ones never leave the dashboard."""
    return list(
        TicketComment.objects.filter(ticket=ticket, is_internal=False)
        .select_related("author_customer")
        .order_by("created_at", "id")
    )


def queues_for_tenant(tenant) -> QuerySet[Queue]:
    return Queue.objects.for_tenant(tenant).select_related("ticket_type", "tenant").order_by("name")


def queues_visible_to(membership) -> QuerySet[Queue]:
    """The queues a member may open on the dashboard: all of the tenant's for managers and owners; staff
    see a support queue only if they are one of its agents (the help desk's scope, applied here too so
    the queues pages are no way around it)."""
    queues = queues_for_tenant(membership.tenant)
    if membership.has_role(Role.MANAGER):
        return queues
    agent_of = Queue.objects.filter(support__agents__user_id=membership.user_id).values("pk")
    return queues.filter(~Q(kind=QueueKind.SUPPORT) | Q(pk__in=agent_of))


def public_queues(tenant) -> QuerySet[Queue]:
    """The live cards of the tenant's public page: creator and service queues. Help-desk (support)
    queues are listed by the help desk's own section, with their own form."""
    return queues_for_tenant(tenant).filter(is_public=True).exclude(kind=QueueKind.SUPPORT)


def linkable_queues(tenant) -> QuerySet[Queue]:
    """The queues whose own public pages (form, live card, API submission) work by direct address: every
    creator and service queue, listed on the tenant's page (``is_public``) or not."""
    return queues_for_tenant(tenant).exclude(kind=QueueKind.SUPPORT)


def pending_tickets(queue: Queue, *, limit: int = 50) -> list[Ticket]:
    return list(
        Ticket.objects.filter(queue=queue, phase=Phase.PENDING)
        .select_related("customer", "lane", "ticket_type")
        .order_by("submitted_at", "id")[:limit]
    )


def serving_tickets(queue: Queue, *, limit: int = 50) -> list[Ticket]:
    return list(
        Ticket.objects.filter(queue=queue, phase=Phase.SERVING)
        .select_related("customer", "lane", "assignee", "ticket_type")
        .order_by("started_at", "id")[:limit]
    )


def search_tickets(queue: Queue, *, filters: dict, limit: int = 50) -> QuerySet[Ticket]:
    """Filter by state, phase, lane, assignee ("none" or an id) and free text (reference, name, email)."""
    tickets = Ticket.objects.filter(queue=queue).select_related("customer", "lane", "assignee", "ticket_type")
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
            Q(contact_name__icontains=text)
            | Q(contact_email__icontains=text)
            | Q(customer__name__icontains=text)
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
