"""The help desk in German: a student who reads German files a ticket on campus-help's public help-desk
form and sees its status page; the IT agent (German chosen with the language cookie) works the inbox
and the ticket page — starts work, answers with a public reply and an internal note, hands the ticket
to a colleague, escalates it by hand and resolves it; the student's page shows the public reply and the
resolved state. Every page says ``<html lang="de">``, shows no English text of the translated catalogs
(``tests.e2e.i18n``) and is axe clean."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import wait_live
from tests.e2e.i18n import assert_page_in_language, german

pytestmark = pytest.mark.browser

PUBLIC = "Wir haben Ihr Konto entsperrt; bitte melden Sie sich noch einmal an."
INTERNAL = "Intern: 40 fehlgeschlagene Anmeldungen haben das Konto gesperrt."
TITLE = "Anmeldung an den Bibliotheks-PCs klappt nicht"

# Tenant and customer data (the space, its desks, categories and people; the demo's other tickets):
# written by the tenant and its customers, not translated.
TENANT_DATA = (
    "Campus Help Desk",
    "IT help",
    "Facilities",
    "Sam Staff",
    "Ishaan IT",
    "Mira Manager",
    "Farah Facilities",
    "Printer in lab 3 prints blank pages",
    "VPN asks for a code I never receive",
    "Projector in room 204 flickers",
    "Leaking tap in hostel B washroom",
    "Cannot log in to the library PCs",
)


def assert_german(page, name: str) -> None:
    # The desks' descriptions are the tenant's; the activity quotes each notification's headline as it
    # was sent, in its recipient's language (the demo's agents and customers have English).
    quoted = page.locator(".sd-public li, .sd-notification strong").all_inner_texts()
    assert_page_in_language(page, name, allow=(*TENANT_DATA, *quoted))


def test_help_desk_journey_in_german(live_app, browser):
    customer_context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="de-DE")
    customer_context.set_default_timeout(15_000)
    german(customer_context, live_app)
    staff_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    staff_context.set_default_timeout(15_000)
    try:
        # The student files a ticket through the public help-desk form, in German.
        page = customer_context.new_page()
        page.goto(live_app.url("/campus-help/"))
        assert_german(page, "support-de-1-tenant-home")
        page.locator(".sd-public").get_by_role("link", name="IT help").click()
        page.wait_for_url(re.compile(r"/campus-help/help/it-help/$"))
        expect(page.get_by_role("button", name="Ticket senden")).to_be_visible()
        assert_german(page, "support-de-2-submit")
        page.get_by_label("Ihr Name").fill("Tara Studentin")
        page.get_by_label("E-Mail", exact=True).fill("tara.de@example.test")
        page.get_by_label("Kurze Zusammenfassung").fill(TITLE)
        page.get_by_label("Beschreiben Sie das Problem").fill(
            "Mein Passwort wird an jedem Rechner abgelehnt."
        )
        page.get_by_label("Wie dringend ist es?").select_option("high")
        # The system help-desk type's category field speaks German too (the value stored stays "Account").
        expect(page.get_by_label("Kategorie").locator("option")).to_contain_text(["—", "Konto", "Geräte"])
        page.get_by_label("Kategorie").select_option("Account")
        page.get_by_label("Mir eine E-Mail senden, wenn das Team antwortet").check()
        page.get_by_role("button", name="Ticket senden").click()
        page.wait_for_url(re.compile(r"/status/[0-9A-Z-]{15}/support/$"))
        reference = page.url.rstrip("/").split("/")[-2]
        expect(page.get_by_role("status").first).to_contain_text(reference)
        expect(page.locator('[data-live-field="status"]')).to_have_text("offen")
        assert_german(page, "support-de-3-customer-filed")
        customer_url = page.url
        wait_live(page)

        # The IT agent, in German: the inbox, then the ticket page.
        staff = staff_context.new_page()
        german(staff_context, live_app)
        staff.goto(live_app.url("/accounts/login/"))
        assert_german(staff, "support-de-4-login")
        staff.get_by_label("E-Mail").fill("staff@demo.virtualq.test")
        staff.get_by_label("Passwort").fill("virtualq-demo")
        staff.get_by_role("button", name="Anmelden").click()
        staff.wait_for_url(lambda url: "/accounts/login/" not in url)
        staff.goto(live_app.url("/dashboard/campus-help/support/?view=all"))
        expect(staff.get_by_role("heading", level=1)).to_have_text("Helpdesk")
        row = staff.locator("tr", has_text=reference)
        expect(row).to_have_count(1)
        assert_german(staff, "support-de-5-inbox")
        row.get_by_role("link", name=TITLE).click()
        staff.wait_for_url(f"**/support/tickets/{reference}/")
        expect(staff.locator(".q-facts", has_text="Kategorie")).to_contain_text("Konto")
        assert_german(staff, "support-de-6-ticket")

        staff.get_by_role("button", name="Bearbeitung beginnen").click()
        expect(staff.locator(".q-facts").first).to_contain_text("in Bearbeitung")
        staff.get_by_label("Antwort", exact=True).fill(PUBLIC)
        staff.get_by_label("Öffentliche Antwort (der Kunde sieht sie und erhält eine E-Mail)").check()
        staff.get_by_role("button", name="Hinzufügen").click()
        expect(staff.locator(".messages")).to_contain_text("Antwort an den Kunden gesendet.")
        staff.get_by_label("Antwort", exact=True).fill(INTERNAL)
        staff.get_by_label("Interne Notiz (nur Team)").check()
        staff.get_by_role("button", name="Hinzufügen").click()
        expect(staff.locator(".messages")).to_contain_text("Interne Notiz hinzugefügt.")
        activity = staff.locator(".sd-activity")
        expect(activity).to_contain_text(PUBLIC)
        expect(activity).to_contain_text(INTERNAL)
        assert_german(staff, "support-de-7-ticket-replied")

        # The student's open page hears of the reply (live), then shows it — not the internal note.
        expect(page.locator('[data-live-field="status"]')).to_have_text("in Bearbeitung")
        expect(page.locator('[data-live-field="changed"]')).not_to_be_empty()
        assert_german(page, "support-de-8-customer-updated-live")
        page.goto(customer_url)
        body = page.locator("main")
        expect(body).to_contain_text(PUBLIC)
        expect(body).not_to_contain_text(INTERNAL)
        assert_german(page, "support-de-9-customer-reply-visible")
        page.get_by_label("Ihre Antwort").fill("Danke, an PC 4 klappt es, an PC 7 nicht.")
        page.get_by_role("button", name="Antwort senden").click()
        expect(page.get_by_role("status").first).to_contain_text("Ihre Antwort wurde an das Team gesendet")
        expect(page.locator(".sd-activity")).to_contain_text("PC 7")

        # Hand it to a colleague, escalate it by hand, resolve it.
        staff.get_by_label("Zuständig", exact=True).select_option(label="Ishaan IT")
        staff.get_by_role("button", name="Zuweisen", exact=True).click()
        expect(staff.locator(".messages")).to_contain_text("Ishaan IT zugewiesen.")
        staff.get_by_label("Warum").fill("Das betrifft das ganze Bibliotheksnetz.")
        staff.get_by_role("button", name="Auf Stufe 1 eskalieren").click()
        expect(staff.locator(".messages")).to_contain_text("Stufe 1")
        expect(staff.locator(".sd-activity")).to_contain_text("Das betrifft das ganze Bibliotheksnetz.")
        assert_german(staff, "support-de-10-ticket-escalated")
        staff.get_by_role("button", name="Als gelöst markieren").click()
        expect(staff.locator(".q-facts").first).to_contain_text("gelöst")
        assert_german(staff, "support-de-11-ticket-resolved")
        staff.goto(live_app.url("/dashboard/campus-help/support/?view=all"))
        assert_german(staff, "support-de-12-inbox-after")

        page.goto(customer_url)
        expect(page.locator('[data-live-field="status"]')).to_have_text("gelöst")
        expect(page.locator("main")).not_to_contain_text("Bibliotheksnetz")
        assert_german(page, "support-de-13-customer-resolved")
    finally:
        customer_context.close()
        staff_context.close()
