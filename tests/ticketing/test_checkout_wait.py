"""Waiting for a checkout place (seed 002, mitigation 9) instead of only "try again"."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from tests.ticketing.factories import make_event
from ticketing import services
from ticketing.events import availability_payload
from ticketing.models import CheckoutSession

pytestmark = pytest.mark.django_db


def public(name, tenant, **kwargs):
    return reverse(f"ticketing_public:{name}", kwargs={"tenant_slug": tenant.slug, **kwargs})


@pytest.fixture
def full_event(tenant):
    """An event with one checkout place, taken by another buyer."""
    event = make_event(tenant=tenant, tiers=(("General", 2500, 10), ("VIP", 6000, 5)), checkout_limit=1)
    general = event.tiers.get(name="General")
    holder = services.checkout_open(tenant=tenant, event=event, quantities={general.id: 1})
    return event, holder


def test_a_full_checkout_sends_the_buyer_to_wait_with_their_choice(client, tenant, full_event):
    event, holder = full_event
    general, vip = event.tiers.get(name="General"), event.tiers.get(name="VIP")
    response = client.post(
        public("checkout_start", tenant, event_slug=event.slug),
        {f"tier_{general.id}": "2", f"tier_{vip.id}": "1"},
    )
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == public("checkout_wait", tenant, event_slug=event.slug)
    assert parse_qs(location.query) == {f"tier_{general.id}": ["2"], f"tier_{vip.id}": ["1"]}
    page = client.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"].startswith("max-age=0")
    assert "Every checkout place is taken." in body and "2 × General" in body and "1 × VIP" in body
    # The form that lets the buyer in: a POST with CSRF carrying the same choice.
    assert f'action="{public("checkout_start", tenant, event_slug=event.slug)}"' in body
    assert "csrfmiddlewaretoken" in body
    assert f'name="tier_{general.id}" value="2"' in body and f'name="tier_{vip.id}" value="1"' in body
    # Live: the event's socket and a static script; without JavaScript, a refresh.
    assert f'data-live-socket="/ws/ticketing/{tenant.id}/events/{event.id}/"' in body
    assert "ticketing/checkout-wait.js" in body and 'data-free="0"' in body
    assert '<noscript><meta http-equiv="refresh" content="15"></noscript>' in body
    assert "<script>" not in body
    assert CheckoutSession.objects.filter(event=event).count() == 1  # waiting holds nothing


def test_a_freed_place_is_announced_and_the_wait_form_gets_in(client, tenant, full_event):
    event, holder = full_event
    general = event.tiers.get(name="General")
    places = public("checkout_places", tenant, event_slug=event.slug)
    wait = public("checkout_wait", tenant, event_slug=event.slug) + f"?tier_{general.id}=2"
    assert client.get(places).json() == {"free": 0}
    assert availability_payload(event.id)["checkout_free"] == 0
    services.checkout_abandon(tenant=tenant, session=holder)
    assert client.get(places).json() == {"free": 1}
    payload = availability_payload(event.id)
    assert payload["checkout_free"] == 1 and payload["fields"]["checkout-free"] == "1 checkout place is free."
    body = client.get(wait).content.decode()
    assert 'data-free="1"' in body and "A place is free: continue to checkout" in body
    entered = client.post(
        public("checkout_start", tenant, event_slug=event.slug), {f"tier_{general.id}": "2"}
    )
    assert entered.status_code == 302 and "/checkout/" in entered["Location"]
    assert "/wait/" not in entered["Location"]
    session = CheckoutSession.objects.filter(event=event).latest("id")
    assert session.items.get().quantity == 2


def test_a_completed_checkout_frees_its_place_live(tenant, settings, monkeypatch):
    """Paying moves held seats to sold (nothing left changes) but frees a place: that is broadcast."""
    from ticketing import events as live_events

    settings.TICKETING_LIVE_COALESCE_MS = 0
    event = make_event(tenant=tenant, checkout_limit=1)
    session = services.checkout_open(tenant=tenant, event=event, quantities={event.tiers.get().id: 1})
    session = services.checkout_set_customer(tenant=tenant, session=session, name="B", email="b@example.test")
    scheduled = []
    monkeypatch.setattr(
        live_events, "broadcast_on_commit", lambda group, kind, build, **kwargs: scheduled.append(build)
    )
    services.checkout_complete(
        tenant=tenant,
        session=session,
        provider="test_card",
        payment_details={"card_number": "4242424242424242"},
    )
    assert len(scheduled) == 1 and scheduled[0]()["checkout_free"] == 1


def test_wait_page_refuses_garbage_and_other_tenants(client, tenant, other_tenant, full_event):
    event, _holder = full_event
    wait = public("checkout_wait", tenant, event_slug=event.slug)
    event_page = public("event", tenant, event_slug=event.slug)
    for query in ("", "?tier_x=1", "?tier_1=abc", "?tier_99999999=2", "?tier_1=-1", "?tier_1=1e9"):
        response = client.get(wait + query)
        assert response.status_code == 302 and response["Location"] == event_page, query
    assert client.get(wait + "?tier_1=%00").status_code == 400
    other = public("checkout_wait", other_tenant, event_slug=event.slug)
    assert client.get(other + f"?tier_{event.tiers.first().id}=1").status_code == 404
    assert client.get(public("checkout_places", other_tenant, event_slug=event.slug)).status_code == 404


def test_waiting_room_events_keep_their_own_gate(client, tenant):
    event = make_event(tenant=tenant, checkout_limit=1, waiting_room_enabled=True)
    tier = event.tiers.get()
    response = client.get(public("checkout_wait", tenant, event_slug=event.slug) + f"?tier_{tier.id}=1")
    assert response.status_code == 302
    assert response["Location"] == public("event", tenant, event_slug=event.slug)
    assert client.get(public("checkout_places", tenant, event_slug=event.slug)).status_code == 404
