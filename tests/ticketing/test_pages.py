import re
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from config.asgi import application
from tests import factories
from tests.ticketing.factories import VenueFactory, buy, make_event
from ticketing import services
from ticketing.models import Event, IssuedTicket, Order, OrderStatus, TicketStatus, TicketTier
from ticketing.views import signed_my_tickets_token

pytestmark = pytest.mark.django_db

WS_HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1")]


def public(name, tenant, **kwargs):
    return reverse(f"ticketing_public:{name}", kwargs={"tenant_slug": tenant.slug, **kwargs})


def dash(name, tenant, **kwargs):
    return reverse(f"ticketing:{name}", kwargs={"tenant_slug": tenant.slug, **kwargs})


def test_event_list_search_and_detail(client, tenant, django_assert_max_num_queries):
    event = make_event(tenant=tenant, title="Jazz Night", performer="Blue Trio")
    make_event(tenant=tenant, title="Draft thing", on_sale=False)
    page = client.get(public("events", tenant))
    assert page.status_code == 200 and "Jazz Night" in page.content.decode()
    assert "Draft thing" not in page.content.decode()
    assert "Jazz Night" in client.get(public("events", tenant), {"q": "trio"}).content.decode()
    assert "Jazz Night" not in client.get(public("events", tenant), {"q": "polka"}).content.decode()
    with django_assert_max_num_queries(8):
        detail = client.get(public("event", tenant, event_slug=event.slug))
    body = detail.content.decode()
    assert detail.status_code == 200 and "10 left" in body and 'data-live-socket="/ws/ticketing/' in body
    assert 'aria-live="polite"' in body
    assert client.get(public("event", tenant, event_slug="draft-thing")).status_code == 404


def test_checkout_flow_in_pages(client, tenant):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 10), ("VIP", 6000, 2)))
    general = event.tiers.get(name="General")
    start = client.post(public("checkout_start", tenant, event_slug=event.slug), {f"tier_{general.id}": "2"})
    assert start.status_code == 302
    checkout_url = start["Location"]
    details = client.get(checkout_url)
    assert details.status_code == 200 and "Your details" in details.content.decode()
    # The hold is shown with its day (holds can cross midnight) and in minutes, in the venue's zone.
    held = re.search(r"held until <strong>([^<]+)</strong> \(about (\d+) minutes", details.content.decode())
    assert held and int(held.group(2)) in (event.checkout_minutes - 1, event.checkout_minutes), held
    assert re.fullmatch(r"\d\d:\d\d, \w{3} \d{1,2} \w{3} [A-Z][A-Z0-9+-]+", held.group(1)), held.group(1)
    bad = client.post(checkout_url, {"step": "details", "name": "Ann", "email": "not-an-email"})
    assert bad.status_code == 422 and "valid email" in bad.content.decode()
    assert (
        client.post(checkout_url, {"step": "details", "name": "Ann", "email": "ann@example.test"}).status_code
        == 302
    )
    pay_page = client.get(checkout_url).content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', pay_page).group(1)
    declined = client.post(
        checkout_url,
        {
            "step": "pay",
            "provider": "test_card",
            "card_number": "4000 0000 0000 0002",
            "idempotency_key": key,
        },
    )
    assert declined.status_code == 422 and "declined" in declined.content.decode()
    paid = client.post(
        checkout_url,
        {
            "step": "pay",
            "provider": "test_card",
            "card_number": "4242 4242 4242 4242",
            "idempotency_key": key,
        },
    )
    assert paid.status_code == 302 and "/orders/" in paid["Location"]
    # The same form submitted again (a double click) lands on the same order.
    again = client.post(
        checkout_url,
        {
            "step": "pay",
            "provider": "test_card",
            "card_number": "4242 4242 4242 4242",
            "idempotency_key": key,
        },
    )
    assert again["Location"] == paid["Location"]
    order_page = client.get(paid["Location"])
    body = order_page.content.decode()
    assert order_page.status_code == 200 and body.count("<svg") == 2 and "You're going" in body
    order = Order.objects.get()
    assert order.status == OrderStatus.PAID and order.tickets.count() == 2
    ticket = order.tickets.first()
    ticket_page = client.get(public("ticket", tenant, code=ticket.code))
    assert ticket_page.status_code == 200 and "<svg" in ticket_page.content.decode()
    # The confirmation went to the outbox (notifications app) in the same transaction.
    from notifications.models import OutboxMessage

    message = OutboxMessage.objects.get(event_type="order.confirmed")
    assert ticket.code in str(message.payload) or ticket.code in str(message.__dict__)


def test_sold_out_and_abandon_messages(client, tenant):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 1),))
    tier = event.tiers.get()
    start = client.post(public("checkout_start", tenant, event_slug=event.slug), {f"tier_{tier.id}": "1"})
    from django.test import Client

    second = Client()
    answer = second.post(
        public("checkout_start", tenant, event_slug=event.slug), {f"tier_{tier.id}": "1"}, follow=True
    )
    assert "sold out" in answer.content.decode().lower()
    token = start["Location"].rstrip("/").split("/")[-1]
    cancelled = client.post(public("checkout_abandon", tenant, token=token), follow=True)
    assert "released" in cancelled.content.decode()
    tier.refresh_from_db()
    assert tier.reserved == 0
    assert client.get(start["Location"]).status_code == 410
    assert client.get(public("checkout_abandon", tenant, token=token)).status_code == 405


def test_sold_out_event_page_offers_the_waitlist(client, tenant):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 1),))
    page = public("event", tenant, event_slug=event.slug)
    join = reverse("waitlists_public:join", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug})
    assert join not in client.get(page).content.decode()  # tickets left: no waitlist offered
    tier = event.tiers.get()
    buy(tenant=tenant, event=event, quantities={tier.id: 1})
    assert join in client.get(page).content.decode()


def test_event_behind_a_waiting_room_sends_buyers_to_the_room(client, tenant):
    event = make_event(tenant=tenant, waiting_room_enabled=True)
    body = client.get(public("event", tenant, event_slug=event.slug)).content.decode()
    room = reverse("waitingroom_public:room", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug})
    assert room in body
    assert "Continue to checkout" not in body and '<select id="tier-' not in body


def test_my_tickets_by_signed_link(client, tenant, other_tenant):
    event = make_event(tenant=tenant)
    buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 1}, email="fan@example.test")
    response = client.post(public("my_tickets_request", tenant), {"email": "FAN@example.test"}, follow=True)
    assert "If we have tickets" in response.content.decode()
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/my-tickets/" in line)
    page = client.get(link[link.index(f"/{tenant.slug}/") :])
    assert page.status_code == 200 and event.title in page.content.decode()
    client.post(public("my_tickets_request", tenant), {"email": "nobody@example.test"})
    assert len(mail.outbox) == 1  # nothing sent, same answer
    assert client.get(public("my_tickets", tenant, signed="forged-token")).status_code == 404
    other_token = signed_my_tickets_token(other_tenant, "fan@example.test")
    assert client.get(public("my_tickets", tenant, signed=other_token)).status_code == 404


def test_my_tickets_link_expires(client, tenant, monkeypatch):
    from ticketing import views

    token = signed_my_tickets_token(tenant, "late@example.test")
    monkeypatch.setattr(views, "MY_TICKETS_MAX_AGE", -1)
    response = client.get(public("my_tickets", tenant, signed=token))
    assert response.status_code == 404 and "expired" in response.content.decode()


def dashboard_urls(tenant, event, order):
    tier = event.tiers.first()
    return [
        dash("events", tenant),
        dash("event_create", tenant),
        dash("event", tenant, event_id=event.id),
        dash("event_edit", tenant, event_id=event.id),
        dash("tier_create", tenant, event_id=event.id),
        dash("tier_edit", tenant, event_id=event.id, tier_id=tier.id),
        dash("check_in", tenant, event_id=event.id),
        dash("venue_create", tenant),
        dash("venue_edit", tenant, venue_id=event.venue_id),
        dash("orders", tenant),
        dash("order", tenant, order_id=order.id),
    ]


def test_dashboard_pages_for_owner_and_404_for_other_tenants(client, tenant, owner, outsider):
    event = make_event(tenant=tenant)
    order = buy(tenant=tenant, event=event, quantities={event.tiers.first().id: 1})
    urls = dashboard_urls(tenant, event, order)
    client.force_login(owner)
    for url in urls:
        assert client.get(url).status_code == 200, url
    client.force_login(outsider)
    for url in urls:
        assert client.get(url).status_code == 404, url
    # Another tenant's ids under the outsider's own slug are 404 too.
    from tenants.models import Membership

    own = Membership.objects.get(user=outsider).tenant
    for url in dashboard_urls(own, event, order)[2:]:
        if "/venues/new/" in url or url.endswith("/events/new/") or url.endswith("/orders/"):
            continue
        assert client.get(url).status_code == 404, url
    for url in [
        dash("event_action", own, event_id=event.id, action="cancel"),
        dash("order_action", own, order_id=order.id, action="refund"),
    ]:
        assert client.post(url).status_code == 404, url


def test_staff_can_check_in_but_not_edit(client, tenant, staff):
    event = make_event(tenant=tenant)
    client.force_login(staff)
    assert client.get(dash("check_in", tenant, event_id=event.id)).status_code == 200
    assert client.get(dash("event_edit", tenant, event_id=event.id)).status_code == 403


def test_promoter_creates_event_in_venue_time_across_dst(client, tenant, owner):
    client.force_login(owner)
    venue = VenueFactory(tenant=tenant, time_zone="Europe/London")
    form = {
        "venue": venue.id,
        "title": "Clocks Change Party",
        "performer": "DJ Fold",
        "starts_at": "2027-03-28T19:30",  # BST (UTC+1): clocks went forward at 01:00 that morning
        "ends_at": "2027-03-28T23:30",
        "doors_open_at": "2027-03-28T18:30",
        "sale_starts_at": "2027-03-27T12:00",  # GMT (UTC+0), the day before the change
        "checkout_limit": 5,
        "checkout_minutes": 10,
        "per_order_max": 10,
        "fee_fixed": "0.50",
        "fee_percent": "2.5",
        "tax_percent": "20",
    }
    response = client.post(dash("event_create", tenant), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = Event.objects.get(title="Clocks Change Party")
    assert event.starts_at == datetime(2027, 3, 28, 18, 30, tzinfo=UTC)
    assert event.sale_starts_at == datetime(2027, 3, 27, 12, 0, tzinfo=UTC)
    assert event.fee_fixed_cents == 50
    # A wall-clock time that does not exist that night is refused with a clear message.
    bad = client.post(
        dash("event_create", tenant), {**form, "title": "Ghost hour", "starts_at": "2027-03-28T01:30"}
    )
    assert bad.status_code == 200 and "does not exist" in bad.content.decode()
    # An ambiguous time (clocks go back) is the first occurrence (still BST).
    client.post(
        dash("event_create", tenant),
        {**form, "title": "Fold", "starts_at": "2027-10-31T01:30", "ends_at": "2027-10-31T04:00",
         "doors_open_at": "", "sale_starts_at": ""},
    )  # fmt: skip
    assert Event.objects.get(title="Fold").starts_at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    # Tier create and publish through the pages.
    response = client.post(
        dash("tier_create", tenant, event_id=event.id),
        {"name": "General", "kind": "general", "price": "25", "quantity": "100", "min_per_order": 1,
         "max_per_order": 6, "position": 0, "is_active": "on", "sale_ends_at": "2027-03-28T17:00"},
    )  # fmt: skip
    assert response.status_code == 302
    assert TicketTier.objects.get(event=event).sale_ends_at == datetime(2027, 3, 28, 16, 0, tzinfo=UTC)
    client.post(dash("event_action", tenant, event_id=event.id, action="publish"))
    assert Event.objects.get(pk=event.pk).status == "on_sale"


def test_public_page_renders_sale_window_and_times_in_venue_zone_across_dst(client, tenant):
    venue = VenueFactory(tenant=tenant, time_zone="Europe/London")
    starts = datetime(2026, 3, 29, 18, 30, tzinfo=UTC)  # 19:30 BST
    event = make_event(
        tenant=tenant,
        venue=venue,
        starts_at=starts,
        ends_at=starts + timedelta(hours=4),
        sale_starts_at=datetime(2026, 3, 28, 12, 0, tzinfo=UTC),  # 12:00 GMT
        sale_ends_at=datetime(2026, 3, 29, 16, 0, tzinfo=UTC),  # 17:00 BST
    )
    body = client.get(public("event", tenant, event_slug=event.slug)).content.decode()
    assert "Sunday 29 March 2026, 19:30 BST" in body
    assert "from Sat 28 Mar 2026, 12:00 GMT until Sun 29 Mar 2026, 17:00 BST" in body
    # New York changes on another date (8 March 2026): the same UTC instant renders differently there.
    ny = VenueFactory(tenant=tenant, time_zone="America/New_York", name="NY Hall")
    ny_event = make_event(
        tenant=tenant, venue=ny, title="NY show", starts_at=datetime(2026, 3, 8, 23, 0, tzinfo=UTC)
    )
    assert (
        "Sunday 8 March 2026, 19:00 EDT"
        in client.get(public("event", tenant, event_slug=ny_event.slug)).content.decode()
    )


def test_check_in_page_twice_says_already_used(client, tenant, staff):
    event = make_event(tenant=tenant)
    order = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 1})
    ticket = order.tickets.get()
    client.force_login(staff)
    url = dash("check_in", tenant, event_id=event.id)
    first = client.post(url, {"code": ticket.code}).content.decode()
    assert "VALID" in first and "scan-ok" in first
    second = client.post(url, {"code": ticket.code}).content.decode()
    assert "ALREADY USED at" in second and "scan-bad" in second
    assert IssuedTicket.objects.get(pk=ticket.pk).status == TicketStatus.USED


def test_order_actions_and_sales_summary(client, tenant, owner):
    event = make_event(tenant=tenant)
    tier = event.tiers.get()
    door = buy(tenant=tenant, event=event, quantities={tier.id: 2}, provider="pay_at_door")
    paid = buy(tenant=tenant, event=event, quantities={tier.id: 1})
    client.force_login(owner)
    summary = client.get(dash("event", tenant, event_id=event.id)).content.decode()
    assert "<svg" in summary and "Tickets sold per day" in summary
    client.post(dash("order_action", tenant, order_id=door.id, action="mark-paid"))
    assert Order.objects.get(pk=door.pk).status == OrderStatus.PAID
    client.post(dash("order_action", tenant, order_id=paid.id, action="refund"))
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.REFUNDED
    tier.refresh_from_db()
    assert tier.sold == 2
    assert client.get(dash("order_action", tenant, order_id=paid.id, action="refund")).status_code == 405


def test_staff_cannot_refund(client, tenant, staff):
    event = make_event(tenant=tenant)
    order = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 1})
    client.force_login(staff)
    assert client.post(dash("order_action", tenant, order_id=order.id, action="refund")).status_code == 403


def test_availability_websocket_pushes_after_a_hold(tenant, other_tenant, transactional_db):
    event = make_event(tenant=tenant)
    tier = event.tiers.get()

    async def scenario():
        communicator = WebsocketCommunicator(
            application, f"/ws/ticketing/{tenant.id}/events/{event.id}/", headers=WS_HEADERS
        )
        connected, _ = await communicator.connect()
        assert connected
        from channels.db import database_sync_to_async

        await database_sync_to_async(services.checkout_open)(
            tenant=tenant, event=event, quantities={tier.id: 3}
        )
        # Updates are coalesced; an earlier one (from creating the event) may arrive first.
        seen = []
        for _ in range(5):
            message = await communicator.receive_json_from(timeout=5)
            seen.append(message["fields"][f"tier-{tier.id}-available"])
            if seen[-1] == "7 left":
                break
        await communicator.disconnect()
        return seen

    seen = async_to_sync(scenario)()
    assert seen[-1] == "7 left", seen

    async def wrong_tenant():
        communicator = WebsocketCommunicator(
            application, f"/ws/ticketing/{other_tenant.id}/events/{event.id}/", headers=WS_HEADERS
        )
        connected, _ = await communicator.connect()
        return connected

    assert async_to_sync(wrong_tenant)() is False


def test_admin_action_marks_pay_at_door_orders_paid(client, tenant):
    event = make_event(tenant=tenant)
    order = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 1}, provider="pay_at_door")
    operator = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    response = client.post(
        reverse("admin:ticketing_order_changelist"), {"action": "mark_paid", "_selected_action": [order.id]}
    )
    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert client.get(reverse("admin:ticketing_order_change", args=[order.id])).status_code == 200
    assert client.get(reverse("admin:ticketing_event_change", args=[event.id])).status_code == 200


def test_tenant_home_and_dashboard_sections(client, tenant, owner):
    make_event(tenant=tenant, title="Section Show")
    assert "Section Show" in client.get(f"/{tenant.slug}/").content.decode()
    client.force_login(owner)
    page = client.get(reverse("dashboard:tenant", args=[tenant.slug])).content.decode()
    assert "Section Show" in page and dash("events", tenant) in page


def test_demo_seed_is_idempotent():
    from tenants import demo as tenant_demo
    from ticketing import demo

    tenants, users = tenant_demo.seed()
    demo.seed(tenants, users)
    counts = (Event.objects.count(), TicketTier.objects.count())
    demo.seed(tenants, users)
    assert (Event.objects.count(), TicketTier.objects.count()) == counts == (1, 3)
    event = Event.objects.get()
    assert event.status == "on_sale" and event.tenant.slug == "nightowl-live"
    assert timezone.now() < event.starts_at


def test_availability_broadcasts_coalesce_per_event(tenant, transactional_db, settings, monkeypatch):
    """Many commits in one window → one payload and one send per event, showing the latest state."""
    import threading

    from ticketing import events as live_events

    settings.TICKETING_LIVE_COALESCE_MS = 250
    event = make_event(tenant=tenant, tiers=(("General", 1000, 10),))
    tier = event.tiers.get()
    flusher = threading.Thread(target=live_events.flush)  # flush() closes its own thread's connection
    sent = []
    # Only the sends of this test's flush count: the flusher thread that creating the event woke may
    # still run a flush of its own in the middle of the test.
    monkeypatch.setattr(
        live_events,
        "send_now",
        lambda group, kind, payload, **_: (
            sent.append((group, payload)) if threading.current_thread() is flusher else None
        ),
    )
    monkeypatch.setattr(
        live_events,
        "_mark_dirty",
        lambda event_id, tenant_id: live_events._dirty.update({event_id: tenant_id}),
    )
    threading.Event().wait(0.6)  # past the window: a flush woken by creating the event has run
    for _ in range(3):
        services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1})
    assert live_events._dirty == {event.id: tenant.id}
    flusher.start()
    flusher.join(10)
    assert len(sent) == 1
    group, payload = sent[0]
    assert group == live_events.availability_group(tenant.id, event.id)
    assert payload["fields"][f"tier-{tier.id}-available"] == "7 left"
