from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.urls import reverse

from config.asgi import application
from tests import factories
from tests.waitlists.factories import fresh, join, make_event, sold_out_event
from ticketing import services as ticketing
from ticketing.models import CheckoutSession, Order
from waitlists import services
from waitlists.models import EntryStatus, WaitlistEntry

pytestmark = pytest.mark.django_db

WS_HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1")]


def public(name, tenant, **kwargs):
    return reverse(f"waitlists_public:{name}", kwargs={"tenant_slug": tenant.slug, **kwargs})


def dash(name, tenant, **kwargs):
    return reverse(f"waitlists:{name}", kwargs={"tenant_slug": tenant.slug, **kwargs})


def offered_entry(tenant, capture, n_seats=1, waiting=1):
    event, (order,) = sold_out_event(tenant=tenant, tiers=(("General", 2500, n_seats),))
    entries = [join(tenant=tenant, event=event) for _ in range(waiting)]
    with capture(execute=True):
        ticketing.order_cancel(tenant=tenant, actor=None, order=order)
    return event, [fresh(entry) for entry in entries]


def offer_path(entry):
    return services.offer_url(WaitlistEntry.objects.select_related("event__tenant").get(pk=entry.pk))


def test_join_from_a_sold_out_event_then_the_live_place_page(client, tenant, django_assert_max_num_queries):
    event, _ = sold_out_event(tenant=tenant)
    join(tenant=tenant, event=event)
    page = client.get(public("join", tenant, event_slug=event.slug))
    assert page.status_code == 200 and "Join the waitlist" in page.content.decode()
    tier = event.tiers.get()
    response = client.post(
        public("join", tenant, event_slug=event.slug),
        {"email": "fan@example.test", "name": "Fan", "quantity": "2", "tier": str(tier.id)},
    )
    entry = WaitlistEntry.objects.get(customer__email="fan@example.test")
    assert response.status_code == 302 and response["Location"] == public(
        "entry", tenant, token=entry.access_token
    )
    assert entry.quantity == 2 and entry.tier_id == tier.id
    with django_assert_max_num_queries(8):
        page = client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert 'data-live-field="position">2<' in body and f"/ws/waitlists/{entry.access_token}/" in body
    assert 'aria-live="polite"' in body
    # Joining again goes to the same place.
    again = client.post(
        public("join", tenant, event_slug=event.slug),
        {"email": "FAN@example.test", "quantity": "1", "tier": str(tier.id)},
    )
    assert again["Location"] == response["Location"]
    assert WaitlistEntry.objects.filter(customer__email="fan@example.test").count() == 1


def test_join_form_errors_keep_the_input(client, tenant):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 5),))
    response = client.post(
        public("join", tenant, event_slug=event.slug),
        {"email": "fan@example.test", "quantity": "1", "tier": "any"},
    )
    body = response.content.decode()
    assert response.status_code == 422 and "available right now" in body and "fan@example.test" in body
    bad = client.post(
        public("join", tenant, event_slug=event.slug), {"email": "x", "quantity": "1", "tier": "any"}
    )
    assert bad.status_code == 422 and not WaitlistEntry.objects.exists()


def test_leave_needs_post_and_stops_offers(client, tenant):
    event, _ = sold_out_event(tenant=tenant)
    entry = join(tenant=tenant, event=event)
    assert client.get(public("leave", tenant, token=entry.access_token)).status_code == 405
    response = client.post(public("leave", tenant, token=entry.access_token))
    assert response.status_code == 302 and fresh(entry).status == EntryStatus.WITHDRAWN
    assert "You left the waitlist" in client.get(response["Location"]).content.decode()


def test_offer_link_claims_into_checkout_and_ends_in_an_order(
    client, tenant, django_capture_on_commit_callbacks
):
    event, (entry,) = offered_entry(tenant, django_capture_on_commit_callbacks)
    path = offer_path(entry)
    page = client.get(path)
    assert page.status_code == 200 and "Claim and check out" in page.content.decode()
    assert "Offer sent" in client.get(public("entry", tenant, token=entry.access_token)).content.decode()
    response = client.post(path, {"action": "claim"})
    session = CheckoutSession.objects.get(source_reference=f"offer:{entry.pk}")
    assert response["Location"] == reverse(
        "ticketing_public:checkout", kwargs={"tenant_slug": tenant.slug, "token": session.token}
    )
    checkout = client.get(response["Location"])
    assert checkout.status_code == 200
    client.post(response["Location"], {"step": "details", "name": "Fan", "email": entry.customer.email})
    paid = client.post(
        response["Location"],
        {
            "step": "pay",
            "provider": "test_card",
            "card_number": "4242 4242 4242 4242",
            "idempotency_key": "k1",
        },
    )
    order = Order.objects.get(session=session)
    assert paid.status_code == 302 and order.tickets.count() == 1
    # The offer page now points at the claimed state, not at a second claim.
    assert "You claimed this offer" in client.get(path).content.decode()


def test_decline_from_the_link_passes_the_seats_on(client, tenant, django_capture_on_commit_callbacks):
    event, (first, second) = offered_entry(tenant, django_capture_on_commit_callbacks, waiting=2)
    response = client.post(offer_path(first), {"action": "decline"})
    assert response.status_code == 302
    assert fresh(first).status == EntryStatus.DECLINED and fresh(second).status == EntryStatus.OFFERED
    again = client.get(offer_path(first))
    assert again.status_code == 410 and "You declined this offer" in again.content.decode()


def test_a_link_for_another_entry_or_an_expired_offer_is_refused_clearly(
    client, tenant, django_capture_on_commit_callbacks
):
    event, (first, second) = offered_entry(tenant, django_capture_on_commit_callbacks, n_seats=2, waiting=2)
    signed_for_second = services.offer_link_token(second)
    wrong = public("offer", tenant, token=first.access_token, signed=signed_for_second)
    response = client.get(wrong)
    assert response.status_code == 403 and "belongs to another waitlist place" in response.content.decode()
    assert client.post(wrong, {"action": "claim"}).status_code == 403
    tampered = public("offer", tenant, token=first.access_token, signed="nonsense")
    assert client.get(tampered).status_code == 404
    WaitlistEntry.objects.filter(pk=first.pk).update(
        offered_at=first.offered_at - timedelta(days=2), offer_expires_at=first.offered_at - timedelta(days=1)
    )
    expired = client.get(offer_path(first))
    assert expired.status_code == 410 and "This offer expired at" in expired.content.decode()
    claim = client.post(offer_path(first), {"action": "claim"}, follow=True)
    assert "expired" in claim.content.decode()
    assert not CheckoutSession.objects.filter(source_reference__startswith="offer:").exists()


def test_tenant_public_home_lists_sold_out_events_with_a_join_link(client, tenant):
    event, _ = sold_out_event(tenant=tenant)
    body = client.get(reverse("tenant_home", kwargs={"tenant_slug": tenant.slug})).content.decode()
    assert public("join", tenant, event_slug=event.slug) in body
    upcoming = body.split('id="ticketing-section-title"')[1].split("</section>")[0]
    assert event.title in upcoming and "Sold out" in upcoming and "On sale" not in upcoming


def test_dashboard_shows_the_line_offers_and_conversion(
    owner_client, tenant, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    event, entries = offered_entry(tenant, django_capture_on_commit_callbacks, waiting=3)
    services.waitlist_decline(tenant=tenant, entry=entries[0], signed=services.offer_link_token(entries[0]))
    assert owner_client.get(dash("events", tenant)).status_code == 200
    with django_assert_max_num_queries(25):
        page = owner_client.get(dash("event", tenant, event_id=event.id))
    body = page.content.decode()
    assert page.status_code == 200
    assert entries[1].customer.email in body and entries[2].customer.email in body
    assert "Offer sent" in body and "Declined" in body
    assert "0%" in body  # 0 claimed of 2 offered
    response = owner_client.post(
        dash("offer_now", tenant, event_id=event.id, entry_id=entries[2].id), follow=True
    )
    assert "No ticket type has 1 free seat for this entry" in response.content.decode()
    owner_client.post(dash("withdraw", tenant, event_id=event.id, entry_id=entries[1].id))
    assert (
        fresh(entries[1]).status == EntryStatus.WITHDRAWN and fresh(entries[2]).status == EntryStatus.OFFERED
    )
    owner_client.post(
        dash("settings", tenant, event_id=event.id),
        {"enabled": "on", "offer_hours": "6", "max_quantity": "2"},
    )
    assert services.settings_for(event).offer_hours == 6
    assert owner_client.post(dash("offer_round", tenant, event_id=event.id)).status_code == 302


def test_every_dashboard_url_is_404_for_another_tenants_member(client, tenant, outsider):
    event, _ = sold_out_event(tenant=tenant)
    entry = join(tenant=tenant, event=event)
    client.force_login(outsider)
    urls = [
        dash("events", tenant),
        dash("event", tenant, event_id=event.id),
        dash("offer_round", tenant, event_id=event.id),
        dash("settings", tenant, event_id=event.id),
        dash("offer_now", tenant, event_id=event.id, entry_id=entry.id),
        dash("withdraw", tenant, event_id=event.id, entry_id=entry.id),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"offer_hours": "1", "max_quantity": "1"}).status_code == 404, url
    # The outsider's own dashboard cannot reach this tenant's event by id either.
    other = outsider.memberships.get().tenant
    assert client.get(dash("event", other, event_id=event.id)).status_code == 404
    assert client.post(dash("withdraw", other, event_id=event.id, entry_id=entry.id)).status_code == 404
    assert fresh(entry).status == EntryStatus.WAITING


def test_staff_cannot_change_settings(client, tenant, staff):
    event, _ = sold_out_event(tenant=tenant)
    client.force_login(staff)
    assert client.get(dash("event", tenant, event_id=event.id)).status_code == 200
    response = client.post(
        dash("settings", tenant, event_id=event.id), {"offer_hours": "1", "max_quantity": "1"}
    )
    assert response.status_code == 403 and services.settings_for(event).pk is None


def test_admin_lists_and_withdraws_through_the_service(client, tenant, django_capture_on_commit_callbacks):
    event, (first, second) = offered_entry(tenant, django_capture_on_commit_callbacks, waiting=2)
    admin_user = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    changelist = reverse("admin:waitlists_waitlistentry_changelist")
    assert client.get(changelist, {"status__exact": "offered"}).status_code == 200
    assert client.get(reverse("admin:waitlists_waitlistsettings_changelist")).status_code == 200
    assert client.get(reverse("admin:waitlists_waitlistentry_change", args=[first.pk])).status_code == 200
    client.post(changelist, {"action": "withdraw", "_selected_action": [first.pk]})
    assert fresh(first).status == EntryStatus.WITHDRAWN and fresh(second).status == EntryStatus.OFFERED


def test_position_websocket_pushes_only_this_entrys_place(tenant, transactional_db):
    event, _ = sold_out_event(tenant=tenant)
    first = join(tenant=tenant, event=event)
    second = join(tenant=tenant, event=event)

    async def scenario():
        communicator = WebsocketCommunicator(
            application, f"/ws/waitlists/{second.access_token}/", headers=WS_HEADERS
        )
        connected, _ = await communicator.connect()
        assert connected
        on_connect = await communicator.receive_json_from(timeout=5)
        await database_sync_to_async(services.waitlist_withdraw)(tenant=tenant, entry=first)
        message = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return on_connect, message

    on_connect, message = async_to_sync(scenario)()
    assert on_connect == {"fields": {"position": "2", "status": "Waiting"}}  # the state now, on (re)connect
    assert message == {"fields": {"position": "1"}}

    async def unknown():
        communicator = WebsocketCommunicator(application, "/ws/waitlists/not-a-token/", headers=WS_HEADERS)
        connected, _ = await communicator.connect()
        return connected

    assert async_to_sync(unknown)() is False


def test_position_websocket_tells_a_waiting_page_about_its_offer_live_and_on_reconnect(
    tenant, transactional_db
):
    event, (order,) = sold_out_event(tenant=tenant, tiers=(("General", 2500, 1),))  # one seat comes back
    first = join(tenant=tenant, event=event)
    second = join(tenant=tenant, event=event)

    def socket(entry):
        return WebsocketCommunicator(application, f"/ws/waitlists/{entry.access_token}/", headers=WS_HEADERS)

    async def scenario():
        watching = socket(first)
        assert (await watching.connect())[0]
        await watching.receive_json_from(timeout=5)  # position 1, waiting
        await database_sync_to_async(ticketing.order_cancel)(tenant=tenant, actor=None, order=order)
        live = await watching.receive_json_from(timeout=5)
        await watching.disconnect()
        back = socket(first)  # a page rendered while waiting reconnects after the offer went out
        assert (await back.connect())[0]
        on_reconnect = await back.receive_json_from(timeout=5)
        await back.disconnect()
        behind = socket(second)
        assert (await behind.connect())[0]
        still = await behind.receive_json_from(timeout=5)
        await behind.disconnect()
        return live, on_reconnect, still

    live, on_reconnect, still = async_to_sync(scenario)()
    offered = {
        "fields": {"status": "Offer sent", "changed": "Your status changed. Reload the page to see it."}
    }
    assert fresh(first).status == EntryStatus.OFFERED
    assert live == offered and on_reconnect == offered
    assert still == {"fields": {"position": "1", "status": "Waiting"}}


def test_public_pages_of_one_tenant_are_not_reachable_under_another(client, tenant, other_tenant):
    event, _ = sold_out_event(tenant=tenant)
    entry = join(tenant=tenant, event=event)
    assert client.get(public("entry", other_tenant, token=entry.access_token)).status_code == 404
    assert client.post(public("leave", other_tenant, token=entry.access_token)).status_code == 404
    assert client.get(public("join", other_tenant, event_slug=event.slug)).status_code == 404
    assert fresh(entry).status == EntryStatus.WAITING
