"""Journey 4 in German — a buyer who chose Deutsch: event page → checkout (a declined test card, then a
good one) → order page with the tickets → the confirmation email, in German; then the waiting room's
front door. Every page is German: no English text of the translated catalogs is left on it (pieces of
their msgids, whole labels, the base templates' words in header and footer: ``tests.e2e.i18n``), and axe
stays clean."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.e2e.conftest import wait_for_email
from tests.e2e.i18n import assert_page_in_language

pytestmark = pytest.mark.browser

# The demo's tier names are tenant data (not translated) that happen to equal a tier-kind label.
TENANT_DATA = ("General admission", "Early bird")


def assert_german(page, name: str) -> None:
    """The page speaks German (``<html lang="de">``), shows no English of the translated catalogs
    (``tests.e2e.i18n.english_on_page``), and is axe clean."""
    assert_page_in_language(page, name, allow=TENANT_DATA)


def test_buyer_journey_in_german(live_app, browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="de-DE")
    context.set_default_timeout(15_000)
    host = re.sub(r"^https?://([^:/]+).*$", r"\1", live_app.url("/"))
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "de", "domain": host, "path": "/"}])
    page = context.new_page()
    try:
        page.goto(live_app.url("/nightowl-live/e/midnight-echoes/"))
        expect(page.get_by_role("heading", name="Tickets", level=2)).to_be_visible()
        expect(page.get_by_role("button", name="Weiter zur Kasse")).to_be_visible()
        assert_german(page, "j4-de-1-event")

        page.get_by_label("Wie viele General admission").select_option("2")
        page.get_by_role("button", name="Weiter zur Kasse").click()
        page.wait_for_url(re.compile(r"/nightowl-live/checkout/[^/]+/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Kasse")
        assert_german(page, "j4-de-2-checkout-details")

        page.get_by_label("Ihr Name").fill("Jo Käufer")
        page.get_by_label(re.compile(r"^E-Mail:?$")).fill("jo.kaeufer@example.test")
        page.get_by_role("button", name="Weiter zur Zahlung").click()
        expect(page.get_by_role("heading", name="Bezahlen")).to_be_visible()
        page.get_by_role("radio", name="Karte (Testmodus)").check()
        page.get_by_label("Kartennummer").fill("4000 0000 0000 0002")
        page.get_by_role("button", name=re.compile(r"bezahlen und Tickets erhalten$")).click()
        expect(page.locator(".field-invalid")).to_contain_text("abgelehnt")
        assert_german(page, "j4-de-3-checkout-declined")

        page.get_by_role("radio", name="Karte (Testmodus)").check()
        page.get_by_label("Kartennummer").fill("4242 4242 4242 4242")
        page.get_by_role("button", name=re.compile(r"bezahlen und Tickets erhalten$")).click()
        page.wait_for_url(re.compile(r"/nightowl-live/orders/[^/]+/$"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Sie sind dabei!")
        expect(page.locator(".ticket-card")).to_have_count(2)
        expect(page.locator(".ticket-card .badge").first).to_have_text("Gültig")
        assert_german(page, "j4-de-4-order")

        # The confirmation email is written in the language the buyer used.
        email = wait_for_email(
            live_app, lambda text: "jo.kaeufer@example.test" in text and "Midnight Echoes" in text
        )
        assert "Ihre Tickets für Midnight Echoes" in email, email[:2000]

        page.goto(live_app.url("/nightowl-live/e/the-velvet-owls-farewell-night/waiting-room/"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Warteraum")
        expect(page.get_by_role("heading", name="So funktioniert der Warteraum")).to_be_visible()
        assert_german(page, "j4-de-5-waiting-room")
    finally:
        context.close()
