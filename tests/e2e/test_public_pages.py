"""Every kind of public page, in one sweep: no serious or critical axe-core violation, and readable at
360px (nothing wider than the screen). Then the public forms not already sent keyboard-only by a journey
(the help-desk form, the customer's reply, "find my tickets") are filled and sent with the keyboard."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_violations, keyboard_type, tab_to, wait_for_email

pytestmark = pytest.mark.browser

PUBLIC_PAGES = [
    "/",
    "/accounts/login/",
    "/status/",
    "/status/AAA-BBB-CCC-DDD/",
    "/no-such-page/",
    "/ava-sings/",
    "/ava-sings/q/requests/",
    "/corner-bakery/",
    "/corner-bakery/q/counter/",
    "/campus-help/",
    "/campus-help/help/",
    "/campus-help/help/it-help/",
    "/nightowl-live/",
    "/nightowl-live/events/",
    "/nightowl-live/events/?q=synth",
    "/nightowl-live/events/?q=velvit&status=on_sale&city=London",
    "/nightowl-live/lookup/",
    "/nightowl-live/lookup/?reference=nope",
    "/nightowl-live/no-such-page/",
    "/nightowl-live/e/midnight-echoes/",
    "/nightowl-live/e/midnight-echoes/waitlist/",
    "/nightowl-live/my-tickets/",
]


def test_every_public_page_is_accessible_and_fits_a_phone(live_app, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems = {}
    for path in PUBLIC_PAGES:
        page.goto(live_app.url(path))
        assert page.locator("h1").count() >= 1, path
        violations = axe_violations(page)
        if violations:
            problems[path] = violations
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 360:
            problems[path + " (width)"] = f"{width}px wide at a 360px viewport"
    context.close()
    assert problems == {}


def test_help_desk_form_and_reply_by_keyboard(live_app, page):
    page.goto(live_app.url("/campus-help/help/it-help/"))
    keyboard_type(page, page.get_by_label("Your name"), "Kai Keys")
    keyboard_type(page, page.get_by_label("Email", exact=True), "kai.keys@example.test")
    keyboard_type(page, page.get_by_label("Short summary"), "Printer in lab 3 jams")
    keyboard_type(page, page.get_by_label("Describe the problem"), "Every second page jams.")
    urgency = page.get_by_label("How urgent is it?")
    urgency.focus()
    page.keyboard.type("H")
    expect(urgency).to_have_value("high")
    category = page.get_by_label("Category")
    category.focus()
    page.keyboard.type("E")
    expect(category).to_have_value("Equipment")
    tab_to(page, page.get_by_role("button", name="Send ticket"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/status/[0-9A-Z-]{15}/support/$"))
    expect(page.locator("main")).to_contain_text("Printer in lab 3 jams")

    keyboard_type(page, page.get_by_label("Your reply"), "It is the HP one by the window.")
    tab_to(page, page.get_by_role("button", name="Send reply"))
    page.keyboard.press("Enter")
    expect(page.locator(".sd-activity")).to_contain_text("the HP one by the window")


PAY_AT_DOOR_ORDER = """
from tenants.models import Tenant
from ticketing import services
from ticketing.models import Event

tenant = Tenant.objects.get(slug="nightowl-live")
event = Event.objects.get(tenant=tenant, slug="midnight-echoes")
tier = event.tiers.order_by("position").first()
session = services.checkout_open(tenant=tenant, event=event, quantities={tier.id: 1})
services.checkout_set_customer(tenant=tenant, session=session, name="Finn", email="finn@example.test")
services.checkout_complete(
    tenant=tenant, session=session, provider="pay_at_door", idempotency_key="e2e-find-my-tickets"
)
"""


def test_find_my_tickets_by_keyboard(live_app, page):
    live_app.shell(PAY_AT_DOOR_ORDER)
    page.goto(live_app.url("/nightowl-live/my-tickets/"))
    keyboard_type(page, page.get_by_label(re.compile(r"^The email you bought with")), "finn@example.test")
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("If we have tickets for that address")
    email = wait_for_email(live_app, lambda text: "finn@example.test" in text and "/my-tickets/" in text)
    link = re.search(r"https?://\S+/nightowl-live/my-tickets/\S+/", email)
    assert link, email
    page.goto(link.group(0))
    expect(page.locator("main")).to_contain_text("Midnight Echoes")
