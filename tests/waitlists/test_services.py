from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import Conflict, NotFound, PermissionDenied, SoldOut, ValidationError
from notifications.models import OutboxMessage
from tests.waitlists.factories import buy, fresh, join, make_event, sold_out_event, tier_counts
from ticketing import services as ticketing
from ticketing.models import CheckoutSession, Order, OrderStatus, SessionSource, SessionStatus
from waitlists import selectors, services
from waitlists.models import EntryStatus, WaitlistEntry

pytestmark = pytest.mark.django_db


def statuses(entries):
    return [fresh(entry).status for entry in entries]


def offers_for(entry):
    return OutboxMessage.objects.filter(
        event_type="waitlist.offer", related_type="waitlists.waitlistentry", related_id=str(entry.pk)
    )


def link_of(entry):
    return services.offer_link_token(fresh(entry))


def test_cancelling_three_seats_offers_them_to_the_first_three_of_five(
    tenant, django_capture_on_commit_callbacks
):
    event, _ = sold_out_event(tenant=tenant, tiers=(("General", 2500, 3),))
    tier = event.tiers.get()
    entries = [join(tenant=tenant, event=event) for _ in range(5)]
    # Free three sold seats by cancelling the order; the seats_freed signal runs the offer round on commit.
    order = Order.objects.get(event=event)
    with django_capture_on_commit_callbacks(execute=True):
        ticketing.order_cancel(tenant=tenant, actor=None, order=order)
    assert statuses(entries) == ["offered"] * 3 + ["waiting"] * 2
    quantity, sold, reserved = tier_counts(tier.id)
    assert (quantity, sold, reserved) == (3, 0, 3)  # the offers' holds count as reserved
    assert sold + reserved <= quantity
    for entry in entries[:3]:
        message = offers_for(entry).get()
        assert f"/waitlist/{entry.access_token}/offer/" in message.payload["action_url"]
        assert message.recipient == entry.customer.email
    assert not offers_for(entries[3]).exists()
    # Nothing more to offer: a second round is a no-op.
    assert services.waitlist_offer_next(event_id=event.id) == []
    assert selectors.entry_position(fresh(entries[3])) == 1
    assert selectors.entry_position(fresh(entries[4])) == 2


def test_decline_cascades_to_the_next_entry(tenant, django_capture_on_commit_callbacks):
    event, (order,) = sold_out_event(tenant=tenant, tiers=(("General", 2500, 1),))
    first, second = join(tenant=tenant, event=event), join(tenant=tenant, event=event)
    with django_capture_on_commit_callbacks(execute=True):
        ticketing.order_cancel(tenant=tenant, actor=None, order=order)
    assert statuses([first, second]) == ["offered", "waiting"]
    declined = services.waitlist_decline(tenant=tenant, entry=fresh(first), signed=link_of(first))
    assert declined.status == EntryStatus.DECLINED
    assert statuses([first, second]) == ["declined", "offered"]
    assert tier_counts(event.tiers.get().id) == (1, 0, 1)
    # Declining twice is harmless; the declined person is never offered again.
    services.waitlist_decline(tenant=tenant, entry=fresh(first), signed=link_of(first))
    assert offers_for(first).count() == 1


def test_expiry_cascades_without_the_scheduler_for_reads(tenant, django_capture_on_commit_callbacks):
    now = timezone.now()
    event, (order,) = sold_out_event(tenant=tenant, tiers=(("General", 2500, 1),))
    first, second = join(tenant=tenant, event=event), join(tenant=tenant, event=event)
    with django_capture_on_commit_callbacks(execute=True):
        ticketing.order_cancel(tenant=tenant, actor=None, order=order, now=now)
    offered = fresh(first)
    assert offered.offer_expires_at - offered.offered_at == timedelta(hours=24)
    later = offered.offer_expires_at + timedelta(seconds=1)
    # No task has run: reads already call it expired and the claim link is refused.
    assert offered.effective_status(later) == EntryStatus.EXPIRED
    with pytest.raises(Conflict, match="expired"):
        services.waitlist_claim(tenant=tenant, entry=offered, signed=link_of(first), now=later)
    # The refused claim made the expiry durable and offered the seat to the next person.
    assert statuses([first, second]) == ["expired", "offered"]
    assert tier_counts(event.tiers.get().id) == (1, 0, 1)


def test_beat_expires_offers_and_offers_on(tenant, django_capture_on_commit_callbacks):
    event, (order,) = sold_out_event(tenant=tenant, tiers=(("General", 2500, 2),))
    entries = [join(tenant=tenant, event=event) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        ticketing.order_cancel(tenant=tenant, actor=None, order=order)
    assert statuses(entries) == ["offered", "offered", "waiting"]
    later = fresh(entries[0]).offer_expires_at + timedelta(minutes=1)
    assert services.waitlist_process_due(now=later) == 1
    assert statuses(entries) == ["expired", "expired", "offered"]
    assert tier_counts(event.tiers.get().id) == (2, 0, 1)
    assert services.waitlist_process_due(now=later) == 0  # idempotent


def test_claimed_offer_ends_in_an_order(tenant, django_capture_on_commit_callbacks):
    event, (order,) = sold_out_event(tenant=tenant, tiers=(("General", 2500, 2),))
    entry = join(tenant=tenant, event=event, n=2, email="fan@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        ticketing.order_cancel(tenant=tenant, actor=None, order=order)
    session = services.waitlist_claim(tenant=tenant, entry=fresh(entry), signed=link_of(entry))
    assert session.source == SessionSource.HOLD and session.source_reference == f"offer:{entry.pk}"
    assert session.expires_at == fresh(entry).offer_expires_at  # claiming early never shortens the hold
    assert fresh(entry).status == EntryStatus.CLAIMED
    # Claiming again (double click) returns the same checkout; the hold moved, nothing taken twice.
    again = services.waitlist_claim(tenant=tenant, entry=fresh(entry), signed=link_of(entry))
    assert again.pk == session.pk
    tier = event.tiers.get()
    assert tier_counts(tier.id) == (2, 0, 2)
    assert session.customer.email == "fan@example.test"
    new_order = ticketing.checkout_complete(
        tenant=tenant,
        session=session,
        provider="test_card",
        payment_details={"card_number": "4242 4242 4242 4242"},
    )
    assert new_order.status == OrderStatus.PAID and new_order.tickets.count() == 2
    assert tier_counts(tier.id) == (2, 2, 0)
    assert selectors.event_summary(event).orders == 1


def test_abandoned_claim_checkout_releases_to_the_next_entry(tenant, django_capture_on_commit_callbacks):
    event, (order,) = sold_out_event(tenant=tenant, tiers=(("General", 2500, 1),))
    first, second = join(tenant=tenant, event=event), join(tenant=tenant, event=event)
    with django_capture_on_commit_callbacks(execute=True):
        ticketing.order_cancel(tenant=tenant, actor=None, order=order)
    session = services.waitlist_claim(tenant=tenant, entry=fresh(first), signed=link_of(first))
    with django_capture_on_commit_callbacks(execute=True):
        ticketing.checkout_abandon(tenant=tenant, session=session)
    assert fresh(session).status == SessionStatus.ABANDONED
    assert statuses([first, second]) == ["claimed", "offered"]
    assert tier_counts(event.tiers.get().id) == (1, 0, 1)


def test_a_withdrawn_person_is_never_offered(tenant, django_capture_on_commit_callbacks):
    event, (order,) = sold_out_event(tenant=tenant, tiers=(("General", 2500, 1),))
    first, second = join(tenant=tenant, event=event), join(tenant=tenant, event=event)
    services.waitlist_withdraw(tenant=tenant, entry=fresh(first))
    with django_capture_on_commit_callbacks(execute=True):
        ticketing.order_cancel(tenant=tenant, actor=None, order=order)
    assert statuses([first, second]) == ["withdrawn", "offered"]
    assert not offers_for(first).exists()
    # Withdrawing an offer releases it to the next person at once.
    third = join(tenant=tenant, event=event)
    services.waitlist_withdraw(tenant=tenant, entry=fresh(second))
    assert statuses([first, second, third]) == ["withdrawn", "withdrawn", "offered"]
    assert tier_counts(event.tiers.get().id) == (1, 0, 1)
    # Withdrawing again is idempotent and never re-offers.
    services.waitlist_withdraw(tenant=tenant, entry=fresh(first))
    assert not offers_for(first).exists()


def test_quantity_two_is_skipped_not_split_and_the_next_fitting_entry_is_offered(
    tenant, django_capture_on_commit_callbacks
):
    event, _ = sold_out_event(tenant=tenant, tiers=(("General", 2500, 3),))
    tier = event.tiers.get()
    pair, single = join(tenant=tenant, event=event, n=2), join(tenant=tenant, event=event, n=1)
    # Free exactly one seat: cancel a one-ticket order.
    with django_capture_on_commit_callbacks(execute=True):
        ticketing.tier_update(tenant=tenant, actor=None, tier=tier, quantity=4)
    assert statuses([pair, single]) == ["waiting", "offered"]
    assert fresh(single).quantity == 1 and tier_counts(tier.id) == (4, 3, 1)
    # The pair keeps its place and gets the next two seats.
    with django_capture_on_commit_callbacks(execute=True):
        ticketing.tier_update(tenant=tenant, actor=None, tier=fresh(tier), quantity=6)
    assert statuses([pair, single]) == ["offered", "offered"]
    assert tier_counts(tier.id) == (6, 3, 3)


def test_any_tier_entry_is_satisfied_by_any_tier_with_enough_seats(
    tenant, django_capture_on_commit_callbacks
):
    event, orders = sold_out_event(tenant=tenant, tiers=(("General", 2500, 2), ("VIP", 9000, 2)))
    general, vip = event.tiers.order_by("position")
    wants_general = join(tenant=tenant, event=event, tier=general, n=2)
    wants_any = join(tenant=tenant, event=event, n=2)
    vip_order = next(o for o in orders if o.items.get().tier_id == vip.id)
    with django_capture_on_commit_callbacks(execute=True):
        ticketing.order_cancel(tenant=tenant, actor=None, order=vip_order)
    # The General-only entry cannot use VIP seats; the "any tier" entry behind it can.
    assert statuses([wants_general, wants_any]) == ["waiting", "offered"]
    assert fresh(wants_any).offered_tier_id == vip.id
    assert tier_counts(vip.id) == (2, 0, 2)


def test_offer_token_for_another_entry_or_an_expired_one_is_refused_clearly(
    tenant, django_capture_on_commit_callbacks
):
    event, (order,) = sold_out_event(tenant=tenant, tiers=(("General", 2500, 2),))
    first, second = join(tenant=tenant, event=event), join(tenant=tenant, event=event)
    with django_capture_on_commit_callbacks(execute=True):
        ticketing.order_cancel(tenant=tenant, actor=None, order=order)
    with pytest.raises(PermissionDenied, match="another waitlist place"):
        services.waitlist_claim(tenant=tenant, entry=fresh(first), signed=link_of(second))
    with pytest.raises(PermissionDenied, match="another waitlist place"):
        services.waitlist_decline(tenant=tenant, entry=fresh(first), signed=link_of(second))
    with pytest.raises(NotFound, match="not valid"):
        services.waitlist_claim(tenant=tenant, entry=fresh(first), signed=link_of(first)[:-3] + "xyz")
    later = fresh(first).offer_expires_at + timedelta(seconds=1)
    with pytest.raises(Conflict, match=r"expired at \d\d:\d\d"):
        services.waitlist_claim(tenant=tenant, entry=fresh(first), signed=link_of(first), now=later)
    assert statuses([first, second]) == ["expired", "expired"]  # the refused claim's round expired both
    # Nothing was claimed by the refused attempts.
    assert not CheckoutSession.objects.filter(source=SessionSource.HOLD).exists()


def test_join_again_returns_the_existing_entry_and_the_database_allows_one_active(tenant):
    event, _ = sold_out_event(tenant=tenant)
    entry, created = services.waitlist_join(tenant=tenant, event=event, email="a@x.test", quantity=1)
    again, created_again = services.waitlist_join(tenant=tenant, event=event, email="A@X.test ", quantity=2)
    assert created and not created_again and again.pk == entry.pk and again.quantity == 1
    # "Any tier" (NULL) counts as one tier for the uniqueness rule.
    with pytest.raises(IntegrityError), transaction.atomic():
        WaitlistEntry.objects.create(tenant=tenant, event=event, customer=entry.customer, quantity=1)
    # A specific tier is a different entry.
    tier_entry, created = services.waitlist_join(
        tenant=tenant, event=event, email="a@x.test", quantity=1, tier=event.tiers.get()
    )
    assert created and tier_entry.pk != entry.pk
    # After withdrawing, joining again makes a NEW entry at the back (the old one is never offered).
    services.waitlist_withdraw(tenant=tenant, entry=entry)
    rejoined, created = services.waitlist_join(tenant=tenant, event=event, email="a@x.test", quantity=1)
    assert created and rejoined.pk > tier_entry.pk


def test_join_is_refused_when_tickets_can_be_bought_and_validates_input(tenant, other_tenant):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 5),))
    with pytest.raises(Conflict, match="available right now"):
        services.waitlist_join(tenant=tenant, event=event, email="a@x.test", quantity=1)
    buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 4})
    # One left: waiting for two is allowed; waiting for one is not.
    services.waitlist_join(tenant=tenant, event=event, email="a@x.test", quantity=2)
    with pytest.raises(ValidationError):
        services.waitlist_join(tenant=tenant, event=event, email="nope", quantity=1)
    with pytest.raises(ValidationError):
        services.waitlist_join(tenant=tenant, event=event, email="b@x.test", quantity=99)
    with pytest.raises(NotFound):
        services.waitlist_join(tenant=other_tenant, event=event, email="b@x.test", quantity=1)
    draft = make_event(tenant=tenant, title="Draft", on_sale=False)
    with pytest.raises(Conflict):
        services.waitlist_join(tenant=tenant, event=draft, email="b@x.test", quantity=1)


def test_offer_window_follows_settings_and_never_outlasts_the_event(
    tenant, django_capture_on_commit_callbacks
):
    now = timezone.now()
    event, (order,) = sold_out_event(
        tenant=tenant, tiers=(("General", 2500, 2),), starts_at=now + timedelta(hours=5)
    )
    services.waitlist_settings_update(
        tenant=tenant, actor=None, event=event, enabled=True, offer_hours=2, max_quantity=2
    )
    first, _second = join(tenant=tenant, event=event), join(tenant=tenant, event=event)
    with django_capture_on_commit_callbacks(execute=True):
        ticketing.order_cancel(tenant=tenant, actor=None, order=order, now=now)
    assert fresh(first).offer_expires_at - fresh(first).offered_at == timedelta(hours=2)
    services.waitlist_settings_update(
        tenant=tenant, actor=None, event=event, enabled=True, offer_hours=48, max_quantity=2
    )
    third = join(tenant=tenant, event=event)
    services.waitlist_withdraw(tenant=tenant, entry=fresh(first), now=now)
    assert fresh(third).offer_expires_at == event.ends_at  # capped at the end of the event
    with pytest.raises(ValidationError):
        services.waitlist_settings_update(
            tenant=tenant, actor=None, event=event, enabled=True, offer_hours=0, max_quantity=2
        )


def test_staff_offer_now_jumps_the_line_only_with_free_seats(
    tenant, manager, django_capture_on_commit_callbacks
):
    event, (order,) = sold_out_event(tenant=tenant, tiers=(("General", 2500, 1),))
    first, second = join(tenant=tenant, event=event), join(tenant=tenant, event=event)
    with pytest.raises(SoldOut):
        services.waitlist_offer_now(tenant=tenant, actor=manager, entry=fresh(second))
    ticketing.tier_update(tenant=tenant, actor=None, tier=event.tiers.get(), quantity=2)  # no on_commit here
    offered = services.waitlist_offer_now(tenant=tenant, actor=manager, entry=fresh(second))
    assert offered.status == EntryStatus.OFFERED and offered.offered_by == manager
    assert statuses([first, second]) == ["waiting", "offered"]
    with pytest.raises(Conflict):
        services.waitlist_offer_now(tenant=tenant, actor=manager, entry=fresh(second))


def test_positions_count_only_competing_entries(tenant):
    event, _ = sold_out_event(tenant=tenant, tiers=(("General", 2500, 1), ("VIP", 9000, 1)))
    general, vip = event.tiers.order_by("position")
    a = join(tenant=tenant, event=event, tier=general)
    b = join(tenant=tenant, event=event, tier=vip)
    c = join(tenant=tenant, event=event)
    d = join(tenant=tenant, event=event, tier=vip)
    places = selectors.event_positions(event.id)
    assert places == {a.id: 1, b.id: 1, c.id: 3, d.id: 3}
    assert [selectors.entry_position(fresh(e)) for e in (a, b, c, d)] == [1, 1, 3, 3]


def test_database_refuses_an_incomplete_offer(tenant):
    event, _ = sold_out_event(tenant=tenant)
    entry = join(tenant=tenant, event=event)
    with pytest.raises(IntegrityError), transaction.atomic():
        WaitlistEntry.objects.filter(pk=entry.pk).update(status="offered")
    with pytest.raises(IntegrityError), transaction.atomic():
        WaitlistEntry.objects.filter(pk=entry.pk).update(quantity=0)


def test_history_records_every_step_with_its_actor(tenant, manager, django_capture_on_commit_callbacks):
    event, (order,) = sold_out_event(tenant=tenant, tiers=(("General", 2500, 1),))
    first, second = join(tenant=tenant, event=event), join(tenant=tenant, event=event)
    with django_capture_on_commit_callbacks(execute=True):
        ticketing.order_cancel(tenant=tenant, actor=None, order=order)
    services.waitlist_decline(tenant=tenant, entry=fresh(first), signed=link_of(first))
    services.waitlist_withdraw(tenant=tenant, entry=fresh(second), actor=manager)
    assert [h.action for h in fresh(first).history.all()] == ["joined", "offered", "declined"]
    history = list(fresh(second).history.all())
    assert [h.action for h in history] == ["joined", "offered", "withdrawn"]
    assert history[-1].actor == manager


def test_quantity_is_limited_by_the_event_and_tier_per_order_rules(tenant):
    event, _ = sold_out_event(tenant=tenant, tiers=(("General", 2500, 3),), per_order_max=3)
    tier = event.tiers.get()
    ticketing.tier_update(tenant=tenant, actor=None, tier=tier, max_per_order=2)
    with pytest.raises(ValidationError, match="1 to 2"):
        services.waitlist_join(tenant=tenant, event=event, email="a@x.test", quantity=3, tier=fresh(tier))
    with pytest.raises(ValidationError, match="1 to 3"):
        services.waitlist_join(tenant=tenant, event=event, email="a@x.test", quantity=4)
    entry, _ = services.waitlist_join(tenant=tenant, event=event, email="a@x.test", quantity=3)
    assert entry.quantity == 3
