"""Journey 2 in German — a creator who chose Deutsch (with the site's language switcher, saved on her
account): dashboard → queues → the board, where she approves one pending request and rejects another
with a reason → calls the next person and completes the request, whose history shows every step in
German → closes the priority lane in the settings and opens it again. A fan, also in German, sends a
request on the public page and follows it (and the rejected one) on the status page. Every page says
``<html lang="de">``, shows no English text of the translated catalogs (``tests.e2e.i18n``) and is axe
clean."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login, wait_live
from tests.e2e.i18n import assert_page_in_language, german

pytestmark = pytest.mark.browser

CREATOR = "creator@demo.virtualq.test"
BOARD = "/dashboard/ava-sings/queues/requests/"

# Two pending requests to review and one approved in each lane, whatever ran before.
SETUP = """
from queues import services
from queues.models import Queue
from tenants.models import Tenant, User

tenant = Tenant.objects.get(slug="ava-sings")
owner = User.objects.get(email="creator@demo.virtualq.test")
queue = Queue.objects.get(tenant=tenant, slug="requests")
for lane_code, name, need, approve in [
    ("priority", "Jonas Berg", "Ein Lied für meine Schwester", False),
    ("personal", "Greta Lind", "Bitte grüß meinen Chor", False),
    ("priority", "Lena Vogt", "Happy birthday für Papa", True),
    ("personal", "Karl Ost", "Ein Gruß an die Nachbarn", True),
]:
    ticket = services.ticket_submit(
        tenant=tenant, queue=queue, lane=queue.lanes.get(code=lane_code), name=name,
        email=f"{name.split()[0].lower()}.de@example.test", need_text=need,
        tip_cents=500 if lane_code == "priority" else 0,
    )
    if approve:
        services.ticket_approve(tenant=tenant, actor=owner, ticket=ticket)
"""

# Tenant data (names of the space, queues and lanes, lane descriptions, people's names and requests):
# written by the tenant and its fans, not translated.
TENANT_DATA = (
    "Ava Sings",
    "Song requests",
    "Shout-outs",
    "Priority",
    "Personal",
    "Served three at a time, with a tip.",
    "Free, one for every three priority requests.",
    "Ask Ava for a personal song or shout-out. Priority requests carry a tip.",
)


def _reference(row) -> str:
    return row.get_by_role("link").first.inner_text()


def assert_german(page, name: str) -> None:
    assert_page_in_language(page, name, allow=TENANT_DATA)


def test_creator_journey_in_german(live_app, browser, page):
    live_app.shell(SETUP)
    login(page, live_app, CREATOR)
    page.wait_for_url("**/dashboard/ava-sings/")
    fan_context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="de-DE")
    fan_context.set_default_timeout(15_000)
    try:
        # She picks Deutsch with the switcher; it is saved on her account and every page follows.
        page.get_by_label("Site language").select_option("de")
        page.get_by_role("button", name="Change language").click()
        page.wait_for_url("**/dashboard/ava-sings/")
        expect(page.get_by_label("Sprache der Website")).to_have_value("de")
        assert (
            live_app.shell(
                f"from tenants.models import User; print(User.objects.get(email='{CREATOR}').language)"
            ).strip()
            == "de"
        )
        assert_german(page, "j2-de-1-dashboard")

        page.get_by_role("navigation", name="Bereiche des Dashboards").get_by_role(
            "link", name="Warteschlangen"
        ).click()
        page.wait_for_url("**/dashboard/ava-sings/queues/")
        assert_german(page, "j2-de-2-queues")
        page.get_by_role("link", name="Song requests").click()
        page.wait_for_url("**" + BOARD)
        assert_german(page, "j2-de-3-board")

        # Review: approve Jonas's request, reject Greta's with a reason.
        review = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Zu prüfen")))
        jonas = review.locator("tr", has_text="Jonas Berg")
        jonas_ref = _reference(jonas)
        jonas.get_by_role("button", name="Annehmen").click()
        expect(page.locator(".messages")).to_contain_text(f"{jonas_ref} ist jetzt „angenommen“.")
        greta = review.locator("tr", has_text="Greta Lind")
        greta_ref = _reference(greta)
        greta.get_by_label(f"Grund für die Ablehnung von {greta_ref}").fill("Diese Woche leider nicht mehr.")
        greta.get_by_role("button", name="Ablehnen").click()
        expect(page.locator(".messages")).to_contain_text(f"{greta_ref} ist jetzt „abgelehnt“.")
        assert_german(page, "j2-de-4-board-reviewed")

        # The fan, in German: the public page, a request of her own, its status page with the wait.
        german(fan_context, live_app)
        fan = fan_context.new_page()
        fan.goto(live_app.url("/ava-sings/q/requests/"))
        expect(fan.get_by_role("heading", name="In die Warteschlange einreihen")).to_be_visible()
        assert_german(fan, "j2-de-5-public-form")
        fan.get_by_label("Ihr Name").fill("Mia Sommer")
        fan.get_by_label("E-Mail", exact=True).fill("mia.sommer@example.test")
        fan.get_by_label("Was brauchen Sie?").fill("Ein Ständchen zum Hochzeitstag")
        fan.get_by_role("radio", name=re.compile(r"^Personal")).check()
        fan.get_by_role("button", name="Senden").click()
        fan.wait_for_url(re.compile(r"/status/[0-9A-Z-]{15}/$"))
        expect(fan.locator('[data-live-field="state"]')).to_have_text("ausstehend")
        assert_german(fan, "j2-de-6-status-pending")

        # The rejected request shows the reason; an approved one its place and the wait in minutes.
        fan.goto(live_app.url(f"/status/{greta_ref}/"))
        expect(fan.locator('[data-live-field="state"]')).to_have_text("abgelehnt")
        expect(fan.locator(".q-history")).to_contain_text("Diese Woche leider nicht mehr.")
        assert_german(fan, "j2-de-7-status-rejected")
        fan.goto(live_app.url(f"/status/{jonas_ref}/"))
        expect(fan.locator('[data-live-field="state"]')).to_have_text("angenommen")
        expect(fan.locator('[data-live-field="eta"]')).to_contain_text("Minute")
        assert_german(fan, "j2-de-8-status-approved")
        wait_live(fan)  # the fan keeps the page open while the creator works
        position = fan.locator('[data-live-field="position"]')
        before = int(position.inner_text())

        # Call the next person, complete the request; its history tells every step in German.
        page.get_by_role("button", name="Nächste Person aufrufen").click()
        expect(page.locator(".messages")).to_contain_text(" aufgerufen (")
        # The fan's page moves up by itself; what the socket sends is German too.
        expect(position).to_have_text(str(before - 1))
        expect(fan.locator('[data-live-field="eta"]')).to_contain_text("Minute")
        assert_german(fan, "j2-de-9-status-moved-live")
        serving = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Wird bedient")))
        first = serving.locator("tbody tr").first
        done_ref = (
            first.locator("a[href*='/tickets/']").first.get_attribute("href").rstrip("/").rsplit("/", 1)[-1]
        )
        assert_german(page, "j2-de-10-board-serving")
        first.get_by_role("button", name="Abschließen").click()
        expect(page.locator(".messages")).to_contain_text("ist jetzt „abgeschlossen“.")
        page.get_by_role("link", name="Alle Tickets & Suche").click()
        page.get_by_label("Suche").fill(done_ref)
        # Django's admin catalog (which wins for msgids it shares) says "Filter", as German does too.
        page.get_by_role("button", name=re.compile(r"^Filter")).click()
        expect(page.locator("tbody tr")).to_have_count(1)
        assert_german(page, "j2-de-11-tickets")
        page.get_by_role("link", name=done_ref).click()
        page.wait_for_url(f"**/tickets/{done_ref}/")
        history = page.locator(".q-history")
        for step in [
            "eingereicht",
            "Annehmen → angenommen",
            "Starten → in Bearbeitung",
            "Abschließen → abgeschlossen",
        ]:
            expect(history).to_contain_text(step)
        assert_german(page, "j2-de-12-ticket")

        # Settings: close the priority lane; the fan's public page says so at once; open it again.
        page.goto(live_app.url(BOARD + "settings/"))
        assert_german(page, "j2-de-13-settings")
        priority = page.locator("section", has=page.get_by_role("heading", name="Spur: Priority"))
        priority.get_by_label("Aktiv").uncheck()
        priority.get_by_role("button", name="Spur speichern").click()
        expect(page.locator(".messages")).to_contain_text("Priority gespeichert.")
        fan.goto(live_app.url("/ava-sings/q/requests/"))
        expect(fan.get_by_role("radio", name=re.compile(r"^Priority"))).to_have_accessible_name(
            re.compile(r"gerade geschlossen")
        )
        card = fan.locator(".q-lane", has=fan.get_by_role("heading", name=re.compile("^Priority")))
        expect(card.locator("h3 .badge")).to_have_text("geschlossen")
        assert_german(fan, "j2-de-14-public-priority-closed")
        priority = page.locator("section", has=page.get_by_role("heading", name="Spur: Priority"))
        priority.get_by_label("Aktiv").check()
        priority.get_by_role("button", name="Spur speichern").click()
        expect(page.locator(".messages")).to_contain_text("Priority gespeichert.")
        fan.reload()
        expect(card.locator("h3 .badge")).to_have_text("geöffnet")
    finally:
        fan_context.close()
        # Other journeys log in as the creator and expect English.
        live_app.shell(
            f"from tenants.models import User; User.objects.filter(email='{CREATOR}').update(language='')"
        )
