"""Journey 1 — a fan: the creator's public page → a priority request with a tip and custom fields, typed
and sent with the keyboard only → the status page → the position moves live (no reload) while the
creator approves the request and calls the tickets ahead of it from the dashboard in another browser.

Ava's demo request queue uses the system creator-request type, which has no custom fields, so the journey
first gives Ava a "Shout-outs" queue whose ticket type asks for an occasion and a dedication (through the
queue services, as the dashboard would), with three approved priority requests already in line."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    assert_not_reloaded,
    check_page,
    keyboard_type,
    login,
    mark_no_reload,
    snap,
    tab_to,
    wait_live,
)

pytestmark = pytest.mark.browser

SETUP = """
from queues import services
from queues.models import Queue, QueueKind
from queues.services import LaneSpec
from queues.workflow import CREATOR_REQUEST
from tenants.models import Tenant, User

tenant = Tenant.objects.get(slug="ava-sings")
owner = User.objects.get(email="creator@demo.virtualq.test")
if not Queue.objects.filter(tenant=tenant, slug="shoutouts").exists():
    kind = services.ticket_type_save(
        tenant=tenant, actor=owner, code="shoutout", name="Shout-out", workflow=CREATOR_REQUEST,
        custom_fields_schema={
            "type": "object",
            "properties": {
                "occasion": {"type": "string", "title": "Occasion",
                             "enum": ["Birthday", "Anniversary", "Graduation", "Just because"]},
                "dedication": {"type": "string", "title": "Who is it for?", "maxLength": 80},
            },
            "required": ["occasion"],
        },
    )
    queue = services.queue_create(
        tenant=tenant, actor=owner, slug="shoutouts", name="Shout-outs", kind=QueueKind.CREATOR,
        ticket_type=kind, description="A short video shout-out from Ava.", default_service_minutes=5,
        lanes=[LaneSpec("priority", "Priority", 3, 500, "With a tip, three for every free one.", "P"),
               LaneSpec("personal", "Personal", 1, 0, "Free.", "F")],
    )
    lane = queue.lanes.get(code="priority")
    for name in ["Ada", "Bea", "Cy"]:
        ticket = services.ticket_submit(
            tenant=tenant, queue=queue, lane=lane, name=name, email=f"{name.lower()}@example.test",
            need_text="A shout-out", custom_data={"occasion": "Birthday"}, tip_cents=500,
        )
        services.ticket_approve(tenant=tenant, actor=owner, ticket=ticket)
"""


def test_fan_request_status_updates_live(live_app, browser, page):
    live_app.shell(SETUP)

    # The creator's public page lists her queues; the fan picks the shout-outs.
    page.goto(live_app.url("/ava-sings/"))
    expect(page.get_by_role("heading", name=re.compile("Shout-outs"))).to_be_visible()
    check_page(page, "j1-fan-1-creator-page")
    page.get_by_role("link", name="Join Shout-outs").click()
    page.wait_for_url("**/ava-sings/q/shoutouts/")
    check_page(page, "j1-fan-2-request-form")

    # Keyboard only: focus, type, Space on the radio button, a letter to choose in the list, Tab, Enter.
    keyboard_type(page, page.get_by_label("Your name"), "Robin Fan")
    keyboard_type(page, page.get_by_label("Email", exact=True), "robin.fan@example.test")
    keyboard_type(page, page.get_by_label("Social handle (optional)"), "@robinfan")
    keyboard_type(page, page.get_by_label("What do you need?"), "Please wish my mum a happy 60th!")
    priority = page.get_by_role("radio", name=re.compile(r"^Priority"))
    priority.focus()
    page.keyboard.press("Space")
    expect(priority).to_be_checked()
    keyboard_type(page, page.get_by_label("Tip", exact=True), "7.50")
    # The tip is authorised on a card at submission (test-card provider: make run has no Stripe keys).
    keyboard_type(page, page.get_by_label("Card number for the tip"), "4242 4242 4242 4242")
    consent = page.get_by_label("Email me when my request moves")
    consent.focus()
    page.keyboard.press("Space")
    expect(consent).to_be_checked()
    occasion = page.get_by_label("Occasion")
    occasion.focus()
    page.keyboard.type("B")  # a focused <select> picks the first option starting with the letter typed
    expect(occasion).to_have_value("Birthday")
    keyboard_type(page, page.get_by_label("Who is it for?"), "Mum (Helen)")
    send = page.get_by_role("button", name="Send")
    tab_to(page, send)
    page.keyboard.press("Enter")

    # The status page: reference, state in words, then the live socket.
    page.wait_for_url(re.compile(r"/status/[0-9A-Z-]{15}/$"))
    reference = page.url.rstrip("/").rsplit("/", 1)[-1]
    expect(page.get_by_role("status").first).to_contain_text(reference)
    state = page.locator('[data-live-field="state"]')
    position = page.locator('[data-live-field="position"]')
    expect(state).to_have_text("pending")
    expect(position).to_have_text("—")
    wait_live(page)
    check_page(page, "j1-fan-3-status-pending")
    mark_no_reload(page)

    # The creator, in a second browser, approves the request from the board.
    creator_context = browser.new_context(viewport={"width": 1200, "height": 900})
    creator_context.set_default_timeout(15_000)
    creator = creator_context.new_page()
    login(creator, live_app, "creator@demo.virtualq.test")
    creator.goto(live_app.url("/dashboard/ava-sings/queues/shoutouts/"))
    row = creator.locator("tr", has_text=reference)
    expect(row).to_contain_text("$7.50")
    expect(row).to_contain_text("Robin Fan")
    row.get_by_role("button", name="Approve").click()
    expect(creator.locator(".messages")).to_contain_text(f"{reference} is now approved")

    # The fan's page follows by itself: approved, fourth in the main line (three priority tickets ahead).
    expect(state).to_have_text("approved")
    expect(position).to_have_text("4")
    expect(page.locator('[data-live-field="phase"]')).to_have_text("You are in line.")
    snap(page, "j1-fan-4-status-approved")

    # The creator calls the tickets ahead; the fan moves up each time, still without a reload.
    for expected in ["3", "2", "1"]:
        creator.get_by_role("button", name="Call next").click()
        expect(creator.locator(".messages")).to_contain_text("Called P-")
        expect(position).to_have_text(expected)
    creator.get_by_role("button", name="Call next").click()
    expect(creator.locator(".messages")).to_contain_text("Called P-4 (Robin Fan)")
    expect(state).to_have_text("in progress")
    expect(position).to_have_text("—")
    assert_not_reloaded(page)
    expect(page.locator("[data-live-history]")).to_contain_text("approved")
    snap(page, "j1-fan-5-status-called")
    creator_context.close()
