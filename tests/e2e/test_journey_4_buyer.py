"""Journey 4 — a buyer: event search → event page → checkout (keyboard only; a declined test card first,
then a good one) → order page with QR tickets and the confirmation email → staff check in one ticket at
the door: the first scan admits, the second says it was already used, and the buyer's ticket page shows
it as used. Then the waiting room: two buyers in two browsers on the demo's high-demand sale (one at
checkout at a time); the second is let in, on the page they keep open, once the first has bought."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_page, keyboard_type, login, snap, tab_to, wait_for_email

pytestmark = pytest.mark.browser

EMAIL = re.compile(r"^Email:?$")  # the checkout form's labels end with a colon


def test_buyer_search_checkout_qr_ticket_and_check_in(live_app, browser, page):
    page.goto(live_app.url("/nightowl-live/"))
    check_page(page, "j4-buyer-1-promoter-page")
    page.get_by_role("link", name="All events and search").click()
    page.wait_for_url("**/nightowl-live/events/")
    keyboard_type(page, page.get_by_label("Search events"), "velvet owls")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"\d+ events? found for “velvet owls”"))
    check_page(page, "j4-buyer-2-search")
    page.get_by_role("link", name="Midnight Echoes").click()
    page.wait_for_url("**/nightowl-live/e/midnight-echoes/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Midnight Echoes")
    check_page(page, "j4-buyer-3-event")

    # Two general admission tickets, chosen and sent with the keyboard.
    quantity = page.get_by_label("How many General admission")
    quantity.focus()
    page.keyboard.type("2")
    expect(quantity).to_have_value("2")
    tab_to(page, page.get_by_role("button", name="Continue to checkout"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/nightowl-live/checkout/[^/]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Checkout")
    check_page(page, "j4-buyer-4-checkout-details")

    keyboard_type(page, page.get_by_label("Your name"), "Jo Buyer")
    keyboard_type(page, page.get_by_label(EMAIL), "jo.buyer@example.test")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Pay")).to_be_visible()
    card = page.get_by_role("radio", name="Card (test mode)")
    card.focus()
    page.keyboard.press("Space")
    keyboard_type(page, page.get_by_label("Card number"), "4000 0000 0000 0002")
    pay = page.get_by_role("button", name=re.compile(r"^Pay .* and get tickets$"))
    tab_to(page, pay)
    page.keyboard.press("Enter")
    expect(page.locator(".field-invalid")).to_contain_text("declined")
    expect(page.get_by_label("Card number")).to_have_value("4000 0000 0000 0002")
    check_page(page, "j4-buyer-5-checkout-declined")
    page.get_by_role("radio", name="Card (test mode)").check()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name=re.compile(r"^Pay .* and get tickets$")).click()

    page.wait_for_url(re.compile(r"/nightowl-live/orders/[^/]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("You're going!")
    tickets = page.locator(".ticket-card")
    expect(tickets).to_have_count(2)
    expect(tickets.first.locator(".ticket-qr svg")).to_be_visible()
    order_reference = page.locator("p", has_text="Order ").locator("strong").first.inner_text()
    check_page(page, "j4-buyer-6-order")
    email = wait_for_email(live_app, lambda text: "jo.buyer@example.test" in text and order_reference in text)
    assert "/nightowl-live/orders/" in email or "/nightowl-live/tickets/" in email

    tickets.first.get_by_role("link", name="Open this ticket on its own").click()
    page.wait_for_url(re.compile(r"/nightowl-live/tickets/[^/]+/$"))
    code = page.locator(".ticket-code code").inner_text()
    expect(page.locator(".badge")).to_have_text("Valid")
    check_page(page, "j4-buyer-7-ticket")

    # At the door: the promoter's staff check the ticket in, twice.
    door_context = browser.new_context(viewport={"width": 1200, "height": 900})
    door_context.set_default_timeout(15_000)
    door = door_context.new_page()
    login(door, live_app, "promoter@demo.virtualq.test")
    door.goto(live_app.url("/dashboard/nightowl-live/events/"))
    check_page(door, "j4-buyer-8-dashboard-events")
    door.locator("tr", has_text="Midnight Echoes").get_by_role("link", name="Check-in").click()
    expect(door.get_by_role("heading", level=1)).to_have_text("Check-in: Midnight Echoes")
    check_page(door, "j4-buyer-9-check-in")
    door.get_by_label("Ticket code").fill(code)
    door.get_by_role("button", name="Check ticket").click()
    expect(door.get_by_role("status")).to_contain_text("VALID — admit one")
    snap(door, "j4-buyer-10-check-in-valid")
    door.get_by_label("Ticket code").fill(code)
    door.keyboard.press("Enter")
    expect(door.get_by_role("status")).to_contain_text("ALREADY USED")
    snap(door, "j4-buyer-11-check-in-already-used")
    door_context.close()

    page.reload()
    expect(page.locator(".badge")).to_have_text("Used")


def _join_the_line(page, live_app, email: str) -> None:
    """From the waiting room's front door: ask for the link, open it from the email, take the place."""
    page.get_by_label(re.compile(r"^Email:?$")).fill(email)
    page.get_by_role("button", name="Email me my link to join").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    text = wait_for_email(live_app, lambda body: email in body and "/waiting-room/join/" in body)
    link = re.search(r"https?://\S+/waiting-room/join/\S+/", text)
    assert link, text
    page.goto(link.group(0))
    page.get_by_role("button", name="Take my place in line").click()
    page.wait_for_url(re.compile(r"/nightowl-live/line/[^/]+/$"))


def test_two_buyers_through_the_waiting_room(live_app, browser, page):
    """The demo's high-demand sale lets one buyer into checkout at a time: the first is let in by the
    admission beat task, the second waits (live position) and is let in when the first has bought."""
    page.goto(live_app.url("/nightowl-live/events/?q=farewell"))
    page.get_by_role("link", name="The Velvet Owls — Farewell Night").click()
    check_page(page, "j4-room-1-event")
    page.goto(live_app.url("/nightowl-live/"))
    page.locator(".wr-section").get_by_role("link", name="The Velvet Owls — Farewell Night").click()
    page.wait_for_url("**/e/the-velvet-owls-farewell-night/waiting-room/")
    check_page(page, "j4-room-2-front-door")
    _join_the_line(page, live_app, "ada.first@example.test")
    # Let in by the beat task (every 5 s): the page reloads itself into "It's your turn".
    expect(page.get_by_role("heading", level=1)).to_have_text("It's your turn", timeout=30_000)
    check_page(page, "j4-room-3-admitted")

    second_context = browser.new_context(viewport={"width": 390, "height": 844})
    second_context.set_default_timeout(15_000)
    second = second_context.new_page()
    second.goto(live_app.url("/nightowl-live/e/the-velvet-owls-farewell-night/waiting-room/"))
    _join_the_line(second, live_app, "bo.second@example.test")
    expect(second.get_by_role("heading", level=1)).to_have_text("Waiting room")
    expect(second.locator('[data-live-field="position"]')).to_have_text(re.compile(r"^\d+$"))
    check_page(second, "j4-room-4-second-waiting")

    # The first buyer checks out; then the second is let in, on the page they keep open.
    page.get_by_label("How many Standing").select_option("2")
    page.get_by_role("button", name="Continue to checkout").click()
    page.wait_for_url(re.compile(r"/nightowl-live/checkout/[^/]+/$"))
    page.get_by_label("Your name").fill("Ada First")
    page.get_by_label(EMAIL).fill("ada.first@example.test")
    page.get_by_role("button", name="Continue to payment").click()
    page.get_by_role("radio", name="Card (test mode)").check()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name=re.compile(r"^Pay .* and get tickets$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're going!")
    expect(page.locator(".ticket-card")).to_have_count(2)

    expect(second.get_by_role("heading", level=1)).to_have_text("It's your turn", timeout=30_000)
    expect(second.get_by_role("button", name="Continue to checkout")).to_be_visible()
    snap(second, "j4-room-5-second-admitted")
    second_context.close()
