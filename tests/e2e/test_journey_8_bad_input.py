"""Journey 8 — bad input in the browser: invalid values show errors next to the fields (marked invalid
for assistive technology) and keep everything typed; fixing them sends the form; an unknown or malformed
reference shows the lookup page, whose form (used with the keyboard) finds a real request."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_page, keyboard_type, tab_to

pytestmark = pytest.mark.browser


def test_invalid_request_keeps_input_and_shows_field_errors(live_app, page):
    page.goto(live_app.url("/ava-sings/q/requests/"))
    page.get_by_label("Your name").fill("Casey Typo")
    page.get_by_label("Email", exact=True).fill("casey-at-example")
    page.get_by_label("What do you need?").fill("A song about rainy Sundays")
    page.get_by_role("radio", name=re.compile(r"^Priority")).check()
    page.get_by_label("Tip", exact=True).fill("2")
    page.get_by_role("button", name="Send").click()

    email = page.get_by_label("Email", exact=True)
    tip = page.get_by_label("Tip", exact=True)
    expect(page.locator(".field-invalid")).to_have_count(2)
    expect(page.locator(".field-invalid", has=email)).to_contain_text("Enter a valid email address.")
    expect(page.locator(".field-invalid", has=tip)).to_contain_text(
        "The priority lane needs a tip of at least $5.00."
    )
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(tip).to_have_attribute("aria-invalid", "true")
    # Nothing typed is lost.
    expect(page.get_by_label("Your name")).to_have_value("Casey Typo")
    expect(email).to_have_value("casey-at-example")
    expect(page.get_by_label("What do you need?")).to_have_value("A song about rainy Sundays")
    expect(page.get_by_role("radio", name=re.compile(r"^Priority"))).to_be_checked()
    expect(tip).to_have_value("2")
    check_page(page, "j8-bad-input-1-request-errors")

    # Fix the two fields, with the keyboard, and send.
    email.fill("")
    keyboard_type(page, email, "casey@example.test")
    tip.fill("")
    keyboard_type(page, tip, "5")
    # The tip is held on a card at submission (the test-card provider in make run and the tests).
    keyboard_type(page, page.get_by_label("Card number for the tip"), "4242 4242 4242 4242")
    tab_to(page, page.get_by_role("button", name="Send"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/status/[0-9A-Z-]{15}/$"))
    expect(page.locator('[data-live-field="state"]')).to_have_text("pending")


def test_unknown_reference_shows_the_lookup_page(live_app, page):
    response = page.goto(live_app.url("/status/AAA-BBB-CCC-DDD/"))
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.get_by_role("alert")).to_contain_text("There is no ticket with that reference number")
    lookup = page.get_by_label("Reference number")
    expect(lookup).to_have_value("AAA-BBB-CCC-DDD")
    check_page(page, "j8-bad-input-2-unknown-reference")

    # Something that is not a reference at all.
    page.goto(live_app.url("/status/?reference=hello"))
    expect(page.get_by_role("alert")).to_contain_text("does not look like a reference number")
    expect(page.get_by_label("Reference number")).to_have_value("hello")

    # The lookup form, keyboard only, with a real reference typed loosely (lower case, no dashes).
    real = live_app.shell(
        "from queues.models import Ticket; print(Ticket.objects.filter(tenant__slug='corner-bakery')"
        ".order_by('id').first().reference)"
    ).split()[-1]
    page.goto(live_app.url("/status/"))
    check_page(page, "j8-bad-input-3-lookup")
    keyboard_type(page, page.get_by_label("Reference number"), real.replace("-", "").lower())
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/status/{real}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(real)
