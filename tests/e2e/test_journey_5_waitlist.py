"""Journey 5 — the waitlist: a sold-out event → join its waitlist (keyboard only) → the promoter cancels
an order from the dashboard → the waiting person's open page notices, and the offer email (file email
backend, delivered by the worker) carries the claim link → claim → checkout → ticket.

Setup (through the ticketing services, as the dashboard and a buyer would): a small event with one seat,
bought by someone else, so it is sold out."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    check_page,
    keyboard_type,
    login,
    snap,
    tab_to,
    wait_for_email,
    wait_live,
)

pytestmark = pytest.mark.browser

SETUP = """
from datetime import timedelta
from django.utils import timezone
from tenants.models import Tenant, User
from ticketing import services
from ticketing.models import Venue

tenant = Tenant.objects.get(slug="nightowl-live")
owner = User.objects.get(email="promoter@demo.virtualq.test")
venue = Venue.objects.for_tenant(tenant).get(name="The Night Owl")
starts = (timezone.now() + timedelta(days=20)).replace(minute=0, second=0, microsecond=0)
event = services.event_create(
    tenant=tenant, actor=owner, venue=venue, title="Tiny Room Session", performer="Moth Lamp",
    description="Twenty chairs and one piano.", starts_at=starts, ends_at=starts + timedelta(hours=2),
)
tier = services.tier_create(
    tenant=tenant, actor=owner, event=event, name="Seat", kind="general", price_cents=1500, quantity=1,
    position=0, max_per_order=2,
)
event = services.event_publish(tenant=tenant, actor=owner, event=event)
session = services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1})
services.checkout_set_customer(tenant=tenant, session=session, name="Early Bird", email="early@example.test")
order = services.checkout_complete(
    tenant=tenant, session=session, provider="test_card",
    payment_details={"card_number": "4242424242424242"}, idempotency_key="e2e-waitlist-first-buyer",
)
print(event.id, event.slug, order.id)
"""


def test_waitlist_join_offer_email_claim_ticket(live_app, browser, page):
    event_id, slug, order_id = live_app.shell(SETUP).split()[-3:]

    page.goto(live_app.url(f"/nightowl-live/e/{slug}/"))
    expect(page.locator('[data-live-field="event-status"]')).to_have_text("Sold out")
    check_page(page, "j5-waitlist-1-sold-out")
    page.goto(live_app.url("/nightowl-live/"))
    page.get_by_role("link", name="Join the waitlist for Tiny Room Session").click()
    page.wait_for_url(f"**/nightowl-live/e/{slug}/waitlist/")
    check_page(page, "j5-waitlist-2-join")

    fan_email = "wanda.wait@example.test"
    keyboard_type(page, page.get_by_label(re.compile(r"^Email:?$")), fan_email)
    keyboard_type(page, page.get_by_label(re.compile(r"^Name:?$")), "Wanda Wait")
    tier = page.get_by_label("Ticket type")
    tier.focus()
    page.keyboard.type("S")
    expect(tier).to_have_value(re.compile(r"^\d+$"))
    tab_to(page, page.get_by_role("button", name="Join the waitlist"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/nightowl-live/waitlist/[^/]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your place on the waitlist")
    expect(page.locator('[data-live-field="position"]')).to_have_text("1")
    expect(page.locator('[data-live-field="status"]')).to_have_text("Waiting")
    wait_live(page)
    check_page(page, "j5-waitlist-3-entry-waiting")

    # The promoter cancels the first buyer's order; its seat goes to the waitlist at once.
    staff_context = browser.new_context(viewport={"width": 1200, "height": 900})
    staff_context.set_default_timeout(15_000)
    staff = staff_context.new_page()
    login(staff, live_app, "promoter@demo.virtualq.test")
    staff.goto(live_app.url(f"/dashboard/nightowl-live/waitlists/{event_id}/"))
    expect(staff.get_by_role("main")).to_contain_text(fan_email)
    check_page(staff, "j5-waitlist-4-dashboard-line")
    staff.goto(live_app.url(f"/dashboard/nightowl-live/orders/{order_id}/"))
    check_page(staff, "j5-waitlist-5-dashboard-order")
    staff.get_by_role("button", name="Cancel order").click()
    expect(staff.locator(".messages")).to_contain_text("Order cancelled")

    # The waiting page notices the offer live (and would on reconnecting too), then shows it on reload.
    expect(page.locator('[data-live-field="status"]')).to_have_text("Offer sent")
    expect(page.locator('[data-live-field="changed"]')).to_contain_text("Reload the page")
    page.reload()
    expect(page.locator('[data-live-field="status"]')).to_have_text("Offer sent")
    snap(page, "j5-waitlist-6-entry-offered")

    # The offer email carries the claim link.
    email = wait_for_email(live_app, lambda text: fan_email in text and "/offer/" in text)
    link = re.search(r"https?://[^\s\"'<>]+/nightowl-live/waitlist/[^\s\"'<>]+/offer/[^\s\"'<>]+/", email)
    assert link, email
    page.goto(link.group(0))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your tickets are waiting")
    expect(page.locator(".event-facts")).to_contain_text("1 × Seat")
    check_page(page, "j5-waitlist-7-offer")
    page.get_by_role("button", name="Claim and check out").click()

    page.wait_for_url(re.compile(r"/nightowl-live/checkout/[^/]+/"))
    if page.get_by_label("Your name").count():
        page.get_by_label("Your name").fill("Wanda Wait")
        page.get_by_label(re.compile(r"^Email:?$")).fill(fan_email)
        page.get_by_role("button", name="Continue to payment").click()
    page.get_by_role("radio", name="Card (test mode)").check()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name=re.compile(r"^Pay .* and get tickets$")).click()
    page.wait_for_url(re.compile(r"/nightowl-live/orders/[^/]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("You're going!")
    expect(page.locator(".ticket-card")).to_have_count(1)
    expect(page.locator(".ticket-card")).to_contain_text("Seat")
    check_page(page, "j5-waitlist-8-ticket")

    staff.goto(live_app.url(f"/dashboard/nightowl-live/waitlists/{event_id}/"))
    expect(staff.get_by_role("main")).to_contain_text("Claimed")
    staff_context.close()
