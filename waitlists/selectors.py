"""Waitlist reads. Offers past ``offer_expires_at`` are treated as expired here whether or not the
expiry task has run yet.

A place in line counts the waiting entries ahead that compete for the same seats: an entry for one tier
is behind earlier entries for that tier and earlier "any tier" entries; an "any tier" entry is behind
every earlier waiting entry."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import NotFound
from ticketing.models import CheckoutSession, Event, EventStatus, Order, SessionSource
from waitlists.models import EntryStatus, WaitlistEntry


def event_positions(event_id: int) -> dict[int, int]:
    """``{entry_id: place}`` for every waiting entry of the event: one query, one pass."""
    rows = (
        WaitlistEntry.objects.filter(event_id=event_id, status=EntryStatus.WAITING)
        .order_by("id")
        .values_list("id", "tier_id")
    )
    per_tier: dict[int, int] = defaultdict(int)
    any_tier = 0
    places = {}
    for total, (entry_id, tier_id) in enumerate(rows):
        ahead = total if tier_id is None else per_tier[tier_id] + any_tier
        places[entry_id] = ahead + 1
        if tier_id is None:
            any_tier += 1
        else:
            per_tier[tier_id] += 1
    return places


def entry_position(entry: WaitlistEntry) -> int | None:
    """The entry's place in line (1 = next), or None when it is not waiting. One COUNT query."""
    if entry.status != EntryStatus.WAITING:
        return None
    ahead = WaitlistEntry.objects.filter(event_id=entry.event_id, status=EntryStatus.WAITING, id__lt=entry.id)
    if entry.tier_id is not None:
        ahead = ahead.filter(Q(tier_id=entry.tier_id) | Q(tier__isnull=True))
    return ahead.count() + 1


def entry_for_public(tenant, token: str) -> WaitlistEntry:
    entry = (
        WaitlistEntry.objects.for_tenant(tenant)
        .select_related("event", "event__tenant", "tier", "offered_tier", "customer")
        .filter(access_token=token)
        .first()
    )
    if entry is None:
        raise NotFound(_("We could not find that waitlist place. Check the link."))
    return entry


def public_event(tenant, event_slug: str) -> Event:
    event = Event.objects.for_tenant(tenant).filter(slug=event_slug).exclude(status=EventStatus.DRAFT).first()
    if event is None:
        raise NotFound(_("There is no such event."))
    return event


def sold_out_events(tenant, *, now: datetime | None = None, limit: int = 6) -> list[Event]:
    """Upcoming sold-out events of the tenant (where the waitlist is the way in)."""
    now = now or timezone.now()
    return list(
        Event.objects.for_tenant(tenant)
        .filter(status=EventStatus.SOLD_OUT, ends_at__gt=now)
        .exclude(waitlist_settings__enabled=False)
        .order_by("starts_at")[:limit]
    )


@dataclass
class EventWaitlistSummary:
    waiting: int
    waiting_seats: int
    offers_out: int
    offered_total: int
    claimed: int
    declined: int
    expired: int
    withdrawn: int
    orders: int
    seats_by_tier: list[tuple[str, int]]
    seats_to_satisfy: int

    @property
    def conversion_percent(self) -> int | None:
        if not self.offered_total:
            return None
        return round(100 * self.claimed / self.offered_total)


def event_summary(event: Event, *, now: datetime | None = None) -> EventWaitlistSummary:
    """Counts for the staff view (a handful of aggregate queries, independent of the list's length)."""
    now = now or timezone.now()
    entries = WaitlistEntry.objects.filter(event=event)
    live_offer = Q(status=EntryStatus.OFFERED, offer_expires_at__gt=now)
    late_offer = Q(status=EntryStatus.OFFERED, offer_expires_at__lte=now)
    counts = entries.aggregate(
        waiting=Count("id", filter=Q(status=EntryStatus.WAITING)),
        waiting_seats=Sum("quantity", filter=Q(status=EntryStatus.WAITING), default=0),
        offers_out=Count("id", filter=live_offer),
        offered_total=Count("id", filter=Q(offered_at__isnull=False)),
        claimed=Count("id", filter=Q(status=EntryStatus.CLAIMED)),
        declined=Count("id", filter=Q(status=EntryStatus.DECLINED)),
        expired=Count("id", filter=Q(status=EntryStatus.EXPIRED) | late_offer),
        withdrawn=Count("id", filter=Q(status=EntryStatus.WITHDRAWN)),
    )
    by_tier = (
        entries.filter(status=EntryStatus.WAITING)
        .values("tier__name")
        .annotate(seats=Sum("quantity"))
        .order_by("tier__name")
    )
    seats_by_tier = [(row["tier__name"] or _("Any tier"), row["seats"]) for row in by_tier]
    free = sum(
        max(0, tier.available)
        for tier in event.tiers.filter(is_active=True).only("quantity", "sold", "reserved")
    )
    offer_refs = CheckoutSession.objects.filter(
        event=event, source=SessionSource.HOLD, source_reference__startswith="offer:"
    )
    orders = Order.objects.filter(session__in=offer_refs).count()
    return EventWaitlistSummary(
        **counts,
        orders=orders,
        seats_by_tier=seats_by_tier,
        seats_to_satisfy=max(0, counts["waiting_seats"] - free),
    )


def event_entries(event: Event, *, limit: int = 200) -> list[WaitlistEntry]:
    """Active entries in line order (offers first by their expiry is not wanted: join order is the line),
    then the most recently closed ones."""
    active = list(
        WaitlistEntry.objects.filter(event=event, status__in=[EntryStatus.WAITING, EntryStatus.OFFERED])
        .select_related("customer", "tier", "offered_tier")
        .order_by("id")[:limit]
    )
    places = event_positions(event.id) if active else {}
    for entry in active:
        entry.place = places.get(entry.id)
    return active


def event_closed_entries(event: Event, *, limit: int = 50) -> list[WaitlistEntry]:
    return list(
        WaitlistEntry.objects.filter(
            event=event,
            status__in=[
                EntryStatus.CLAIMED,
                EntryStatus.DECLINED,
                EntryStatus.EXPIRED,
                EntryStatus.WITHDRAWN,
            ],
        )
        .select_related("customer", "tier", "offered_tier")
        .order_by("-closed_at", "-id")[:limit]
    )


def dashboard_events(tenant) -> list[dict]:
    """Events of the tenant with waitlist activity, with their counts (one grouped query)."""
    rows = (
        WaitlistEntry.objects.for_tenant(tenant)
        .values("event_id")
        .annotate(
            waiting=Count("id", filter=Q(status=EntryStatus.WAITING)),
            offers=Count("id", filter=Q(status=EntryStatus.OFFERED)),
            claimed=Count("id", filter=Q(status=EntryStatus.CLAIMED)),
        )
    )
    counts = {row["event_id"]: row for row in rows}
    events = Event.objects.for_tenant(tenant).exclude(status=EventStatus.DRAFT).order_by("-starts_at")[:100]
    result = []
    for event in events:
        row = counts.get(event.id, {"waiting": 0, "offers": 0, "claimed": 0})
        result.append({"event": event, **{k: row[k] for k in ("waiting", "offers", "claimed")}})
    return result


def entry_for_dashboard(tenant, event: Event, entry_id: int) -> WaitlistEntry:
    entry = WaitlistEntry.objects.for_tenant(tenant).filter(event=event, pk=entry_id).first()
    if entry is None:
        raise NotFound()
    return entry
