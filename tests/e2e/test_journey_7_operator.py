"""Journey 7 — the operator in the Django admin: lists, filters, search and the workflow-transition action
(which goes through the queue services, so the ticket's history records it)."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login, snap

pytestmark = pytest.mark.browser

SETUP = """
from queues import services
from queues.models import Queue
from tenants.models import Tenant

tenant = Tenant.objects.get(slug="ava-sings")
queue = Queue.objects.get(tenant=tenant, slug="requests")
ticket = services.ticket_submit(
    tenant=tenant, queue=queue, lane=queue.lanes.get(code="personal"), name="Opal Operatorcase",
    email="opal@example.test", need_text="Please approve me from the admin",
)
print(ticket.reference)
"""


def test_operator_lists_filters_and_applies_a_transition(live_app, page):
    reference = live_app.shell(SETUP).strip().splitlines()[-1]
    login(page, live_app, "admin@demo.virtualq.test")
    page.goto(live_app.url("/admin/"))
    expect(page.get_by_role("link", name="Tickets").first).to_be_visible()
    snap(page, "j7-operator-1-admin-home")

    # The tickets list, narrowed with the sidebar filters (state, then tenant) and the search box.
    page.goto(live_app.url("/admin/queues/ticket/"))
    filters = page.locator("#changelist-filter")
    filters.locator("details", has_text="By state").get_by_role("link", name="pending", exact=True).click()
    page.wait_for_url(re.compile(r"state=pending"))
    filters.locator("details", has_text="By tenant").get_by_role("link", name="Ava Sings").click()
    page.wait_for_url(re.compile(r"tenant__id__exact=\d+"))
    assert "state=pending" in page.url
    row = page.locator("#result_list tbody tr", has_text=reference)
    expect(row).to_be_visible()
    expect(page.locator("#result_list tbody tr", has_text="received")).to_have_count(0)
    page.get_by_role("textbox", name=re.compile("Search", re.I)).fill("Operatorcase")
    page.keyboard.press("Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    snap(page, "j7-operator-2-ticket-list-filtered")

    # The transition action: select the ticket, choose the action, name the event, Go.
    row = page.locator("#result_list tbody tr", has_text=reference)
    row.locator('input[name="_selected_action"]').check()
    page.locator('select[name="action"]').select_option("apply_workflow_event")
    page.get_by_role("textbox", name="Workflow event").fill("approve")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text("Applied “approve” to 1 ticket.")
    # It left the "pending" list; among the approved ones a second "approve" is refused, and said so.
    expect(page.locator("#result_list tbody tr", has_text=reference)).to_have_count(0)
    page.goto(live_app.url(f"/admin/queues/ticket/?state=approved&q={reference}"))
    page.locator("#result_list tbody tr", has_text=reference).locator(
        'input[name="_selected_action"]'
    ).check()
    page.locator('select[name="action"]').select_option("apply_workflow_event")
    page.get_by_role("textbox", name="Workflow event").fill("approve")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist .warning")).to_contain_text(reference)
    snap(page, "j7-operator-3-action-applied")

    # The change page shows the new state and the history row written by the service.
    page.locator("#result_list tbody tr", has_text=reference).get_by_role("link", name=reference).click()
    expect(page.locator(".field-state")).to_contain_text("approved")
    expect(page.get_by_text("operator").first).to_be_visible()
    snap(page, "j7-operator-4-ticket-change")

    # Other apps' lists and filters load too.
    for path, text in [
        ("/admin/ticketing/event/?status__exact=on_sale", "Midnight Echoes"),
        ("/admin/tenants/membership/?role__exact=staff", "staff@demo.virtualq.test"),
    ]:
        page.goto(live_app.url(path))
        expect(page.locator("#result_list")).to_contain_text(text)
