from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import Busy, Conflict, InvalidTransition, PermissionDenied, SoldOut, ValidationError
from tests.factories import CustomerFactory
from tests.ticketing.factories import VenueFactory, buy, make_event
from ticketing import selectors, services
from ticketing.admission import admission_sign
from ticketing.models import (
    CheckoutSession,
    CheckoutSlot,
    EventStatus,
    IssuedTicket,
    Order,
    OrderStatus,
    SessionStatus,
    TicketStatus,
    TicketTier,
)
from ticketing.payments import DECLINING_TEST_CARD, PaymentDeclined
from ticketing.signals import seats_freed

pytestmark = pytest.mark.django_db


def fresh(instance):
    """FSM fields are protected, so ``refresh_from_db`` cannot reassign them; fetch a new instance."""
    return type(instance).objects.get(pk=instance.pk)


def tier_of(event, index=0):
    return list(event.tiers.order_by("position"))[index]


def test_event_snapshots_venue_and_venue_edits_do_not_move_it(tenant):
    venue = VenueFactory(tenant=tenant, name="Old Hall", city="Leeds", time_zone="Europe/London")
    event = make_event(tenant=tenant, venue=venue)
    services.venue_update(tenant=tenant, actor=None, venue=venue, name="New Hall", time_zone="Asia/Tokyo")
    event = fresh(event)
    assert (event.venue_name, event.venue_city, event.time_zone) == ("Old Hall", "Leeds", "Europe/London")


def test_dedupe_key_is_unique(tenant):
    venue = VenueFactory(tenant=tenant)
    start = timezone.now() + timedelta(days=3)
    make_event(tenant=tenant, venue=venue, starts_at=start, title="Same Show")
    with pytest.raises(ValidationError, match="already exists"):
        make_event(tenant=tenant, venue=venue, starts_at=start, title="Same  show!")


def test_event_time_rules_are_database_constraints(tenant):
    event = make_event(tenant=tenant)
    from ticketing.models import Event

    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(ends_at=event.starts_at)
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(doors_open_at=event.starts_at + timedelta(minutes=1))
    with pytest.raises(ValidationError):
        services.event_update(
            tenant=tenant, actor=None, event=event, ends_at=event.starts_at - timedelta(hours=1)
        )


@pytest.mark.parametrize(
    "update",
    [{"sold": -1}, {"reserved": -1}, {"sold": 8, "reserved": 3}, {"min_per_order": 5, "max_per_order": 4}],
)
def test_tier_checks(tenant, update):
    event = make_event(tenant=tenant)
    with pytest.raises(IntegrityError), transaction.atomic():
        TicketTier.objects.filter(event=event).update(**update)


def test_tier_sale_window_check(tenant):
    event = make_event(tenant=tenant)
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        TicketTier.objects.filter(event=event).update(sale_starts_at=now, sale_ends_at=now)


def test_purchase_turns_held_into_sold_and_issues_tickets(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 2000, 10), ("VIP", 5000, 2)))
    general, vip = tier_of(event), tier_of(event, 1)
    session = services.checkout_open(tenant=tenant, event=event, quantities={general.id: 2, vip.id: 1})
    general.refresh_from_db()
    assert (general.sold, general.reserved) == (0, 2)
    order = buy(tenant=tenant, event=event, quantities={general.id: 1})
    assert order.status == OrderStatus.PAID and order.tickets.count() == 1
    services.checkout_set_customer(tenant=tenant, session=session, name="A", email="a@example.test")
    order = services.checkout_complete(
        tenant=tenant,
        session=session,
        provider="test_card",
        payment_details={"card_number": "4242424242424242"},
    )
    general.refresh_from_db()
    vip.refresh_from_db()
    assert (general.sold, general.reserved, vip.sold, vip.reserved) == (3, 0, 1, 0)
    assert order.tickets.count() == 3
    session = fresh(session)
    assert session.status == SessionStatus.COMPLETED
    assert order.total_cents == order.subtotal_cents + order.fee_cents + order.tax_cents == 9000


def test_fees_and_tax_round_half_up_once_per_line(tenant):
    event = make_event(
        tenant=tenant,
        tiers=(("General", 1999, 10),),
        fee_fixed_cents=50,
        fee_percent=Decimal("2.5"),
        tax_percent=Decimal("20"),
    )
    order = buy(tenant=tenant, event=event, quantities={tier_of(event).id: 3})
    # per ticket fee = 50 + round_half_up(1999 * 2.5%) = 50 + round(49.975) = 100
    assert order.subtotal_cents == 5997
    assert order.fee_cents == 300
    # tax = round_half_up((5997 + 300) * 20%) = round(1259.4) = 1259
    assert order.tax_cents == 1259
    assert order.total_cents == 5997 + 300 + 1259


def test_order_total_check_constraint(tenant):
    event = make_event(tenant=tenant)
    order = buy(tenant=tenant, event=event, quantities={tier_of(event).id: 1})
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(total_cents=order.total_cents + 1)


def test_declined_card_rolls_back_and_keeps_the_hold(tenant):
    event = make_event(tenant=tenant)
    tier = tier_of(event)
    session = services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 2})
    services.checkout_set_customer(tenant=tenant, session=session, name="B", email="b@example.test")
    with pytest.raises(PaymentDeclined):
        services.checkout_complete(
            tenant=tenant,
            session=session,
            provider="test_card",
            payment_details={"card_number": DECLINING_TEST_CARD},
        )
    tier.refresh_from_db()
    assert (tier.sold, tier.reserved) == (0, 2)
    assert not Order.objects.exists()
    with pytest.raises(ValidationError):
        services.checkout_complete(
            tenant=tenant, session=session, provider="test_card", payment_details={"card_number": "1234"}
        )


def test_free_and_pay_at_door(tenant, owner):
    free_event = make_event(tenant=tenant, title="Free gig", tiers=(("Free", 0, 5),))
    order = buy(tenant=tenant, event=free_event, quantities={tier_of(free_event).id: 1}, provider="free")
    assert order.status == OrderStatus.PAID and order.total_cents == 0
    with pytest.raises(ValidationError):
        buy(tenant=tenant, event=free_event, quantities={tier_of(free_event).id: 1}, provider="test_card")

    event = make_event(tenant=tenant, title="Door gig")
    order = buy(tenant=tenant, event=event, quantities={tier_of(event).id: 2}, provider="pay_at_door")
    assert order.status == OrderStatus.PENDING and order.tickets.count() == 2
    order = services.order_mark_paid(tenant=tenant, actor=owner, order=order)
    assert order.status == OrderStatus.PAID and order.paid_at
    with pytest.raises(InvalidTransition):
        services.order_mark_paid(tenant=tenant, actor=owner, order=order)


def test_replayed_idempotency_key_returns_the_same_order(tenant):
    event = make_event(tenant=tenant)
    tier = tier_of(event)
    first = buy(tenant=tenant, event=event, quantities={tier.id: 1}, key="k-1")
    again = buy(tenant=tenant, event=event, quantities={tier.id: 1}, key="k-1")
    assert again.pk == first.pk
    tier.refresh_from_db()
    # The replay opened a second hold but created no second order; that hold is still only a hold.
    assert tier.sold == 1


def test_second_submit_of_a_completed_session_returns_its_order(tenant):
    event = make_event(tenant=tenant)
    session = services.checkout_open(tenant=tenant, event=event, quantities={tier_of(event).id: 1})
    services.checkout_set_customer(tenant=tenant, session=session, name="C", email="c@example.test")
    details = {"card_number": "4242424242424242"}
    first = services.checkout_complete(
        tenant=tenant, session=session, provider="test_card", payment_details=details
    )
    second = services.checkout_complete(
        tenant=tenant, session=session, provider="test_card", payment_details=details
    )
    assert first.pk == second.pk and Order.objects.count() == 1


def test_sold_out_answer_and_event_status_follows(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 2),))
    tier = tier_of(event)
    session = services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 2})
    event = fresh(event)
    assert event.status == EventStatus.SOLD_OUT
    with pytest.raises(SoldOut):
        services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1})
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    seats_freed.connect(receiver)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(transaction, "on_commit", lambda func, *a, **k: func())
            services.checkout_abandon(tenant=tenant, session=session)
    finally:
        seats_freed.disconnect(receiver)
    event = fresh(event)
    tier.refresh_from_db()
    assert event.status == EventStatus.ON_SALE and tier.reserved == 0
    assert received == [
        {"signal": seats_freed, "tenant_id": tenant.id, "event_id": event.id, "tier_ids": [tier.id]}
    ]


def test_a_failing_seats_freed_receiver_neither_undoes_the_release_nor_stops_the_others(
    tenant, caplog, django_capture_on_commit_callbacks
):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 2),))
    tier = tier_of(event)
    session = services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 2})
    received = []

    def broken(sender, **kwargs):
        raise RuntimeError("receiver exploded")

    def working(sender, **kwargs):
        received.append(kwargs["tier_ids"])

    seats_freed.connect(broken)
    seats_freed.connect(working)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.checkout_abandon(tenant=tenant, session=session)
    finally:
        seats_freed.disconnect(broken)
        seats_freed.disconnect(working)
    tier.refresh_from_db()
    assert tier.reserved == 0 and fresh(session).status == SessionStatus.ABANDONED
    assert received == [[tier.id]]
    assert any("receiver exploded" in (record.exc_text or str(record.exc_info)) for record in caplog.records)


def test_expired_session_is_available_on_read_without_the_scheduler(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 2),), checkout_minutes=10)
    tier = tier_of(event)
    now = timezone.now()
    session = services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 2}, now=now)
    later = now + timedelta(minutes=11)
    [row] = selectors.tiers_with_availability(event, now=later)
    assert row.reserved == 2 and row.live_available == 2  # counted free before anyone released it
    assert selectors.tiers_with_availability(event, now=now + timedelta(minutes=9))[0].live_available == 0
    # The next buyer gets the seats: the expired hold is released in their transaction.
    other = services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 2}, now=later)
    session = fresh(session)
    tier.refresh_from_db()
    assert session.status == SessionStatus.EXPIRED and tier.reserved == 2
    assert other.status == SessionStatus.ACTIVE
    # The late owner of the expired session cannot pay for it.
    services.checkout_set_customer(tenant=tenant, session=other, name="D", email="d@example.test", now=later)
    with pytest.raises(Conflict):
        services.checkout_complete(
            tenant=tenant, session=session, provider="test_card", payment_details={}, now=later
        )


def test_completing_after_expiry_releases_and_refuses(tenant):
    event = make_event(tenant=tenant, checkout_minutes=5)
    tier = tier_of(event)
    now = timezone.now()
    session = services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 3}, now=now)
    services.checkout_set_customer(tenant=tenant, session=session, name="E", email="e@example.test", now=now)
    with pytest.raises(Conflict, match="ran out"):
        services.checkout_complete(
            tenant=tenant,
            session=session,
            provider="test_card",
            payment_details={"card_number": "4242424242424242"},
            now=now + timedelta(minutes=6),
        )
    tier.refresh_from_db()
    session = fresh(session)
    assert tier.reserved == 0 and session.status == SessionStatus.EXPIRED


def test_expiry_with_the_scheduler_task(tenant):
    from ticketing.tasks import expire_checkout_sessions

    event = make_event(tenant=tenant, checkout_minutes=1)
    tier = tier_of(event)
    session = services.checkout_open(
        tenant=tenant, event=event, quantities={tier.id: 2}, now=timezone.now() - timedelta(minutes=2)
    )
    assert expire_checkout_sessions() == 1
    assert expire_checkout_sessions() == 0  # idempotent
    tier.refresh_from_db()
    session = fresh(session)
    assert tier.reserved == 0 and session.status == SessionStatus.EXPIRED


def test_expiry_sweep_batches_release_each_hold_once_and_leave_live_and_busy_ones(
    tenant, django_capture_on_commit_callbacks
):
    """Batches of two: every due session is expired once, its seats go back once (one UPDATE per tier
    per batch), its slot is freed; a live hold is untouched; seats_freed is sent once per event for
    the whole tick."""
    event = make_event(tenant=tenant, tiers=(("A", 1000, 20), ("B", 1000, 20)), checkout_limit=10)
    tier_a, tier_b = event.tiers.order_by("position")
    live = services.checkout_open(tenant=tenant, event=event, quantities={tier_a.id: 1})
    past = timezone.now() - timedelta(hours=1)
    due = [
        services.checkout_open(
            tenant=tenant, event=event, quantities={tier_a.id: 2, tier_b.id: n % 2 + 1}, now=past
        )
        for n in range(5)
    ]
    received = []

    def receiver(sender, **kwargs):
        received.append((kwargs["event_id"], kwargs["tier_ids"]))

    seats_freed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert services.checkout_expire_due(batch=2) == 5
            assert services.checkout_expire_due(batch=2) == 0
    finally:
        seats_freed.disconnect(receiver)
    assert {fresh(session).status for session in due} == {SessionStatus.EXPIRED}
    assert fresh(live).status == SessionStatus.ACTIVE
    assert [(t.sold, t.reserved) for t in event.tiers.order_by("position")] == [(0, 1), (0, 0)]
    assert CheckoutSlot.objects.filter(event=event, session__isnull=False).get().session_id == live.id
    assert received == [(event.id, sorted([tier_a.id, tier_b.id]))]


def test_expiry_sweep_respects_its_limit(tenant):
    event = make_event(tenant=tenant, tiers=(("A", 1000, 20),), checkout_limit=10)
    tier = tier_of(event)
    past = timezone.now() - timedelta(hours=1)
    for _ in range(3):
        services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1}, now=past)
    assert services.checkout_expire_due(limit=2, batch=5) == 2
    assert services.checkout_expire_due(limit=2, batch=5) == 1
    tier.refresh_from_db()
    assert tier.reserved == 0


def test_checkout_limit(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 100),), checkout_limit=2)
    tier = tier_of(event)
    now = timezone.now()
    services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1}, now=now)
    second = services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1}, now=now)
    with pytest.raises(Busy):
        services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1}, now=now)
    assert selectors.active_checkout_count(event, now=now) == 2
    services.checkout_abandon(tenant=tenant, session=second, now=now)
    services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1}, now=now)
    # Raising the limit adds places.
    services.event_update(tenant=tenant, actor=None, event=event, checkout_limit=3)
    services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1}, now=now)


def test_rules_per_order_and_sale_windows(tenant):
    now = timezone.now()
    event = make_event(tenant=tenant, tiers=(("General", 1000, 100),), per_order_max=4)
    tier = tier_of(event)
    with pytest.raises(ValidationError):
        services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 5})
    with pytest.raises(ValidationError):
        services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 0})
    services.tier_update(tenant=tenant, actor=None, tier=tier, sale_starts_at=now + timedelta(days=1))
    with pytest.raises(ValidationError, match="not on sale yet"):
        services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1}, now=now)
    draft = make_event(tenant=tenant, title="Draft", on_sale=False)
    with pytest.raises(Conflict):
        services.checkout_open(tenant=tenant, event=draft, quantities={tier_of(draft).id: 1})


def test_waiting_room_gate(tenant):
    from waitingroom.models import WaitingRoom

    event = make_event(tenant=tenant, waiting_room_enabled=True)
    # Ticketing's own token check, alone: without the room the waiting room app adds no entry check.
    WaitingRoom.objects.filter(event=event).delete()
    tier = tier_of(event)
    now = timezone.now()
    with pytest.raises(PermissionDenied):
        services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1}, now=now)
    with pytest.raises(PermissionDenied):
        services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1}, admission="forged:token")
    expired = admission_sign(event_id=event.id, entry_id=7, expires_at=now - timedelta(seconds=1))
    with pytest.raises(PermissionDenied, match="expired"):
        services.checkout_open(
            tenant=tenant, event=event, quantities={tier.id: 1}, admission=expired, now=now
        )
    good = admission_sign(event_id=event.id, entry_id=7, expires_at=now + timedelta(minutes=10))
    session = services.checkout_open(
        tenant=tenant, event=event, quantities={tier.id: 1}, admission=good, now=now
    )
    assert session.source_reference == "entry:7"
    with pytest.raises(Conflict):
        services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1}, admission=good, now=now)


def test_open_from_existing_hold_does_not_take_inventory_again(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 3),))
    tier = tier_of(event)
    with transaction.atomic():
        services.seats_hold(tier_quantities={tier.id: 2})
    tier.refresh_from_db()
    assert tier.reserved == 2
    with transaction.atomic():
        session = services.checkout_open_from_hold(
            tenant=tenant, event=event, tier_quantities={tier.id: 2}, source_reference="offer:1"
        )
    tier.refresh_from_db()
    assert tier.reserved == 2
    services.checkout_abandon(tenant=tenant, session=session)
    tier.refresh_from_db()
    assert tier.reserved == 0


def test_cancel_and_refund_return_seats(tenant, owner):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 5),))
    tier = tier_of(event)
    order = buy(tenant=tenant, event=event, quantities={tier.id: 3})
    ticket = order.tickets.first()
    services.ticket_check_in(tenant=tenant, actor=owner, event=event, code=ticket.code)
    services.order_refund(tenant=tenant, actor=owner, order=order)
    tier.refresh_from_db()
    assert tier.sold == 1  # the used ticket stays counted
    assert IssuedTicket.objects.filter(order=order, status=TicketStatus.CANCELLED).count() == 2
    with pytest.raises(InvalidTransition):
        services.order_cancel(tenant=tenant, actor=owner, order=order)
    second = buy(tenant=tenant, event=event, quantities={tier.id: 2}, provider="pay_at_door")
    services.order_cancel(tenant=tenant, actor=owner, order=second)
    tier.refresh_from_db()
    assert tier.sold == 1


def test_check_in_outcomes(tenant, owner):
    event = make_event(tenant=tenant)
    other_event = make_event(tenant=tenant, title="Other")
    order = buy(tenant=tenant, event=event, quantities={tier_of(event).id: 2})
    first, second = order.tickets.all()
    now = timezone.now()
    from ticketing.qr import ticket_payload

    result = services.ticket_check_in(
        tenant=tenant, actor=owner, event=event, code=ticket_payload(first.code), now=now
    )
    assert result.outcome == "admitted"
    again = services.ticket_check_in(tenant=tenant, actor=owner, event=event, code=first.code)
    assert again.outcome == "already_used" and again.ticket.used_at == now
    assert services.ticket_check_in(
        tenant=tenant, actor=owner, event=other_event, code=second.code
    ).outcome == ("wrong_event")
    assert (
        services.ticket_check_in(tenant=tenant, actor=owner, event=event, code="nope").outcome == "not_found"
    )
    assert (
        services.ticket_check_in(tenant=tenant, actor=owner, event=event, code="x:forged").outcome
        == "not_found"
    )
    services.order_cancel(tenant=tenant, actor=owner, order=order)
    assert (
        services.ticket_check_in(tenant=tenant, actor=owner, event=event, code=second.code).outcome
        == "cancelled"
    )


def test_other_tenant_objects_are_not_found(tenant, other_tenant):
    from core.errors import NotFound

    event = make_event(tenant=tenant)
    with pytest.raises(NotFound):
        services.checkout_open(tenant=other_tenant, event=event, quantities={tier_of(event).id: 1})
    with pytest.raises(NotFound):
        services.tier_update(tenant=other_tenant, actor=None, tier=tier_of(event), quantity=50)


def test_search_uses_full_text_and_caps(tenant):
    make_event(tenant=tenant, title="Jazz Night", performer="Blue Trio")
    make_event(tenant=tenant, title="Rock Show", performer="Loud Band")
    assert [e.title for e in selectors.public_events(tenant, query="jazz")] == ["Jazz Night"]
    assert [e.title for e in selectors.public_events(tenant, query="loud")] == ["Rock Show"]
    assert [e.title for e in selectors.public_events(tenant, query="london")] != []
    assert selectors.SEARCH_LIMIT == 100


def test_customer_is_upserted(tenant):
    event = make_event(tenant=tenant)
    existing = CustomerFactory(tenant=tenant, email="same@example.test")
    order = buy(tenant=tenant, event=event, quantities={tier_of(event).id: 1}, email="SAME@example.test")
    assert order.customer_id == existing.id
    assert CheckoutSession.objects.get(order=order).customer_id == existing.id


def test_past_events_end_by_task(tenant):
    from ticketing.models import Event
    from ticketing.tasks import end_past_events

    past_start = timezone.now() - timedelta(days=2)
    event = make_event(tenant=tenant, starts_at=past_start, ends_at=past_start + timedelta(hours=3))
    future = make_event(tenant=tenant, title="Later")
    assert end_past_events() == 1
    assert end_past_events() == 0
    assert Event.objects.get(pk=event.pk).status == EventStatus.ENDED
    assert Event.objects.get(pk=future.pk).status == EventStatus.ON_SALE
    with pytest.raises(Conflict):
        services.checkout_open(tenant=tenant, event=event, quantities={tier_of(event).id: 1})


def test_search_can_use_the_gin_index(tenant):
    from django.contrib.postgres.search import SearchQuery
    from django.db import connection

    make_event(tenant=tenant, title="Indexed Gig", performer="Search Band")
    queryset = selectors.Event.objects.filter(
        search_vector=SearchQuery("indexed", search_type="websearch", config="english")
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "event_search_gin" in plan
