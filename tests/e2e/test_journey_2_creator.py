"""Journey 2 — the creator: log in → approve one pending request and reject another with a reason →
"call next" follows the 3:1 interleave (three priority requests for every personal one) → complete a
request, whose history shows every step → disable the priority lane in the settings, which the public
page shows at once (and enable it again)."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_page, login, snap

pytestmark = pytest.mark.browser

BOARD = "/dashboard/ava-sings/queues/requests/"

# Two more approved priority requests, so both lanes have people waiting for four calls whatever ran
# before (the demo has 2 priority + 2 personal approved and Leo/Ines pending).
SETUP = """
from queues import services
from queues.models import Queue
from tenants.models import Tenant, User

tenant = Tenant.objects.get(slug="ava-sings")
owner = User.objects.get(email="creator@demo.virtualq.test")
queue = Queue.objects.get(tenant=tenant, slug="requests")
lane = queue.lanes.get(code="priority")
for name, need in [("Uma Reyes", "A song for our road trip"), ("Vic Olsen", "Say hi to my gran Edda")]:
    ticket = services.ticket_submit(
        tenant=tenant, queue=queue, lane=lane, name=name, email=f"{name.split()[0].lower()}@example.test",
        need_text=need, tip_cents=500,
    )
    services.ticket_approve(tenant=tenant, actor=owner, ticket=ticket)
"""


def _reference(row) -> str:
    return row.get_by_role("link").first.inner_text()


def test_creator_reviews_calls_completes_and_changes_settings(live_app, browser, page):
    live_app.shell(SETUP)
    login(page, live_app, "creator@demo.virtualq.test")
    page.wait_for_url("**/dashboard/ava-sings/")
    check_page(page, "j2-creator-1-dashboard")
    page.get_by_role("navigation", name="Dashboard sections").get_by_role("link", name="Queues").click()
    page.wait_for_url("**/dashboard/ava-sings/queues/")
    check_page(page, "j2-creator-2-queues")
    page.get_by_role("link", name="Song requests").click()
    page.wait_for_url("**" + BOARD)
    check_page(page, "j2-creator-3-board")

    # Review: approve Leo's priority request, reject Ines's with a reason.
    review = page.locator("section", has=page.get_by_role("heading", name=re.compile("^To review")))
    leo = review.locator("tr", has_text="Leo Martin")
    leo_ref = _reference(leo)
    leo.get_by_role("button", name="Approve").click()
    expect(page.locator(".messages")).to_contain_text(f"{leo_ref} is now approved")
    ines = review.locator("tr", has_text="Ines Costa")
    ines_ref = _reference(ines)
    ines.get_by_label(f"Reason to reject {ines_ref}").fill("Not this week, sorry: the choir set is full.")
    ines.get_by_role("button", name="Reject").click()
    expect(page.locator(".messages")).to_contain_text(f"{ines_ref} is now rejected")

    # The rejected fan sees the reason on the public status page.
    fan_context = browser.new_context(viewport={"width": 1200, "height": 900})
    fan = fan_context.new_page()
    fan.goto(live_app.url(f"/status/{ines_ref}/"))
    expect(fan.locator('[data-live-field="state"]')).to_have_text("rejected")
    expect(fan.locator(".q-history")).to_contain_text("the choir set is full")
    check_page(fan, "j2-creator-4-status-rejected")

    # Call next four times: each call takes the head of the main line as shown, and four calls in a row
    # with both lanes waiting are three priority requests and one personal one.
    main_line = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Main line")))
    called = []
    for _ in range(4):
        head = main_line.locator("tbody tr").first
        link = head.locator("td").nth(1).get_by_role("link")
        label, href = link.inner_text(), link.get_attribute("href")
        lane = head.locator("td").nth(2).inner_text()
        page.get_by_role("button", name="Call next").click()
        expect(page.locator(".messages")).to_contain_text(f"Called {label} (")
        called.append((label, lane, href.rstrip("/").rsplit("/", 1)[-1]))
    lanes = [lane for _label, lane, _ref in called]
    assert sorted(lanes) == ["Personal", "Priority", "Priority", "Priority"], called
    assert all(label.startswith("P-" if lane == "Priority" else "F-") for label, lane, _ in called), called
    snap(page, "j2-creator-5-board-serving")

    # Complete the first one called; its history shows every step.
    serving = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Being served")))
    first = serving.locator("tr", has=page.get_by_role("link", name=called[0][0], exact=True))
    first.get_by_role("button", name="Complete").click()
    expect(page.locator(".messages")).to_contain_text("is now completed")
    page.get_by_role("link", name="All tickets & search").click()
    done_ref = called[0][2]
    page.get_by_label("Search").fill(done_ref)
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    page.get_by_role("link", name=done_ref).click()
    page.wait_for_url(f"**/tickets/{done_ref}/")
    history = page.locator(".q-history")
    for step in ["submitted", "Approve → approved", "Start → in progress", "Complete → completed"]:
        expect(history).to_contain_text(step)
    check_page(page, "j2-creator-6-ticket")

    # Settings: close the priority lane; the public page says so at once.
    page.goto(live_app.url(BOARD + "settings/"))
    check_page(page, "j2-creator-7-settings")
    priority = page.locator("section", has=page.get_by_role("heading", name="Lane: Priority"))
    priority.get_by_label("Enabled").uncheck()
    priority.get_by_role("button", name="Save lane").click()
    expect(page.locator(".messages")).to_contain_text("Priority saved.")
    fan.goto(live_app.url("/ava-sings/q/requests/"))
    expect(fan.get_by_role("radio", name=re.compile(r"^Priority"))).to_have_accessible_name(
        re.compile(r"closed right now")
    )
    card = fan.locator(".q-lane", has=fan.get_by_role("heading", name=re.compile("^Priority")))
    expect(card.locator("h3 .badge")).to_have_text("closed")
    snap(fan, "j2-creator-8-public-priority-closed")

    # Open it again (other journeys use the lane).
    priority = page.locator("section", has=page.get_by_role("heading", name="Lane: Priority"))
    priority.get_by_label("Enabled").check()
    priority.get_by_role("button", name="Save lane").click()
    expect(page.locator(".messages")).to_contain_text("Priority saved.")
    fan.reload()
    expect(card.locator("h3 .badge")).to_have_text("open")
    fan_context.close()
