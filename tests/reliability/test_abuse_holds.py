"""Holding inventory without paying, as someone with a script would (issue 15 #2 and the outside finding
on parallel checkouts), through the public pages from real test clients:

- made-up emails do not each get the per-buyer allowance of unpaid (pay-at-the-door) tickets: the limit
  also counts by the browser, the network address and the signed-in account;
- the promoter's cap on outstanding unpaid seats holds for the whole event, whoever asks;
- one browser (parallel tabs) or one network address cannot open checkouts for the whole sale;
- expired unpaid orders count as free on the event page before any sweep runs.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.ticketing.factories import buy, make_event
from ticketing.models import CheckoutSession, Event, Order, OrderStatus, SessionStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_address_buckets_left_over(settings):
    settings.TRUSTED_PROXIES = []
    cache.clear()
    yield
    cache.clear()


def start(browser, tenant, event, quantity=1):
    """Open a checkout from the event page. Returns the response (a redirect)."""
    url = reverse("ticketing_public:checkout_start", args=[tenant.slug, event.slug])
    return browser.post(url, {f"tier_{event.tiers.get().id}": str(quantity)})


def reserve_unpaid(browser, tenant, event, *, email, quantity=1):
    """The whole pay-at-the-door flow of one buyer: open, type a contact, choose 'pay at the door'.
    Returns the pay step's response (302 to the order, or 422 with the refusal)."""
    opened = start(browser, tenant, event, quantity)
    page = opened["Location"]
    assert "/checkout/" in page, page
    browser.post(page, {"step": "details", "name": "Fan", "email": email})
    form = browser.get(page).content.decode()
    hidden = dict(
        re.findall(r'name="(idempotency_key|expected_total|expected_currency)" value="([^"]*)"', form)
    )
    return browser.post(page, {"step": "pay", "provider": "pay_at_door", **hidden})


def test_made_up_emails_from_one_browser_do_not_each_get_the_unpaid_allowance(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 50),), pay_at_door_max_per_buyer=4)
    browser = Client(REMOTE_ADDR="198.51.100.20")
    first = reserve_unpaid(browser, tenant, event, email="a1@x.test", quantity=4)
    assert first.status_code == 302
    refused = reserve_unpaid(browser, tenant, event, email="a2@x.test", quantity=1)
    assert refused.status_code == 422
    assert "Pay at the door is limited to 4 tickets per buyer" in refused.content.decode()
    assert Order.objects.filter(status=OrderStatus.PENDING).count() == 1


def test_fresh_cookies_from_one_address_do_not_multiply_the_allowance(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 50),), pay_at_door_max_per_buyer=4)
    codes = [
        reserve_unpaid(
            Client(REMOTE_ADDR="198.51.100.21"), tenant, event, email=f"b{n}@x.test", quantity=2
        ).status_code
        for n in range(4)
    ]
    assert codes == [302, 302, 422, 422], codes
    assert sum(order.tickets.count() for order in Order.objects.all()) == 4
    # Someone on another network is not in that count.
    other = reserve_unpaid(Client(REMOTE_ADDR="203.0.113.5"), tenant, event, email="c@x.test", quantity=2)
    assert other.status_code == 302


def test_one_ipv6_subscriber_prefix_is_one_address(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 50),), pay_at_door_max_per_buyer=2)
    ok = reserve_unpaid(Client(REMOTE_ADDR="2001:db8:1:2::10"), tenant, event, email="d1@x.test", quantity=2)
    assert ok.status_code == 302
    same_64 = reserve_unpaid(Client(REMOTE_ADDR="2001:db8:1:2::99"), tenant, event, email="d2@x.test")
    assert same_64.status_code == 422


def test_the_promoters_cap_on_outstanding_unpaid_seats_holds_for_everyone(tenant):
    event = make_event(
        tenant=tenant,
        tiers=(("General", 1000, 50),),
        pay_at_door_max_per_buyer=4,
        pay_at_door_max_outstanding=5,
    )
    codes = [
        reserve_unpaid(
            Client(REMOTE_ADDR=f"198.51.100.{30 + n}"), tenant, event, email=f"e{n}@x.test", quantity=2
        )
        for n in range(3)
    ]
    assert [response.status_code for response in codes] == [302, 302, 422]
    assert "No more pay-at-the-door reservations" in codes[2].content.decode()
    # Card payments still sell: the cap is on unpaid seats only.
    assert buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 3}).status == OrderStatus.PAID


def test_the_promoter_sets_the_caps_on_the_event_form(tenant, owner):
    from ticketing.forms import EventForm

    event = make_event(tenant=tenant, tiers=(("General", 1000, 50),))
    staff = Client()
    staff.force_login(owner)
    url = reverse("ticketing:event_edit", kwargs={"tenant_slug": tenant.slug, "event_id": event.id})
    shown = EventForm(tenant=tenant, event=event)  # what the edit page is filled with
    data = {
        **{name: "" if shown[name].value() is None else shown[name].value() for name in shown.fields},
        "pay_at_door_max_outstanding": "12",
        "open_checkouts_per_buyer": "2",
        "open_checkouts_per_address": "6",
    }
    assert staff.post(url, data).status_code == 302
    event = Event.objects.get(pk=event.pk)
    assert (
        event.pay_at_door_max_outstanding,
        event.open_checkouts_per_buyer,
        event.open_checkouts_per_address,
    ) == (12, 2, 6)
    refused = staff.post(url, {**data, "open_checkouts_per_buyer": "0"})
    assert refused.status_code in (200, 422) and "greater than or equal to 1" in refused.content.decode()
    assert Event.objects.get(pk=event.pk).open_checkouts_per_buyer == 2


# --- parallel checkouts --------------------------------------------------------------------------------


def test_parallel_tabs_of_one_browser_cannot_take_the_checkout_places(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 50),), checkout_limit=5)
    browser = Client(REMOTE_ADDR="198.51.100.40")
    first = start(browser, tenant, event)
    assert "/checkout/" in first["Location"]
    second = start(browser, tenant, event)  # another tab
    # Sent back to the checkout it already has, with a message that says why.
    assert second["Location"] == first["Location"]
    page = browser.get(second["Location"]).content.decode()
    assert "already have a checkout open" in page
    assert CheckoutSession.objects.filter(status=SessionStatus.ACTIVE).count() == 1
    # Cancelling it lets the same browser start again.
    token = CheckoutSession.objects.get().token
    browser.post(reverse("ticketing_public:checkout_abandon", args=[tenant.slug, token]))
    assert "/checkout/" in start(browser, tenant, event)["Location"]


def test_one_address_with_fresh_cookies_cannot_take_every_checkout_place(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 50),), checkout_limit=5)
    answers = [start(Client(REMOTE_ADDR="198.51.100.41"), tenant, event) for _ in range(5)]
    opened = [answer for answer in answers if "/checkout/" in answer["Location"]]
    assert len(opened) == 3  # open_checkouts_per_address defaults to 3
    refused = answers[3]
    assert refused["Location"] == reverse("ticketing_public:event", args=[tenant.slug, event.slug])
    # Others still find a free place.
    other = start(Client(REMOTE_ADDR="203.0.113.41"), tenant, event)
    assert "/checkout/" in other["Location"]
    assert CheckoutSession.objects.filter(status=SessionStatus.ACTIVE).count() == 4


def test_an_expired_checkout_does_not_count_against_its_browser(tenant):
    from ticketing import services

    event = make_event(tenant=tenant, tiers=(("General", 1000, 50),))
    tier = event.tiers.get()
    earlier = timezone.now() - timedelta(minutes=event.checkout_minutes + 1)
    services.checkout_open(
        tenant=tenant, event=event, quantities={tier.id: 1}, holder_key="k1", address_key="a1", now=earlier
    )
    again = services.checkout_open(
        tenant=tenant, event=event, quantities={tier.id: 1}, holder_key="k1", address_key="a1"
    )
    assert again.status == SessionStatus.ACTIVE
    with pytest.raises(services.CheckoutAlreadyOpen):
        services.checkout_open(
            tenant=tenant, event=event, quantities={tier.id: 1}, holder_key="k1", address_key="a2"
        )


# --- expired unpaid orders at read time ----------------------------------------------------------------


def test_expired_unpaid_orders_count_as_free_on_the_event_page_before_the_sweep(tenant, client):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 3),), pay_at_door_hold_hours=1)
    order = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 3}, provider="pay_at_door")
    url = reverse("ticketing_public:event", args=[tenant.slug, event.slug])
    assert "Sold out" in client.get(url).content.decode()
    Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    page = client.get(url).content.decode()
    assert "Sold out" not in page and f'name="tier_{event.tiers.get().id}"' in page
    from ticketing.selectors import event_availability, sales_summary

    _event, tiers = event_availability(event.id)
    assert tiers[0]["available"] == 3
    summary = sales_summary(event)
    assert (summary["sold"], summary["available"], summary["totals"]["orders"]) == (0, 3, 0)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING  # reads changed nothing; the sweep makes it durable
