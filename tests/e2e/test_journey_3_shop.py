"""Journey 3 — the shop: a customer takes a number at the bakery's cake counter (keyboard only), staff
take the ticket through its whole service workflow from the dashboard (start → ready → picked up), the
customer's open status page follows, and both histories show every step."""

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
    wait_live,
)

pytestmark = pytest.mark.browser


def test_shop_service_ticket_whole_workflow(live_app, browser, page):
    page.goto(live_app.url("/corner-bakery/"))
    check_page(page, "j3-shop-1-public-page")
    page.get_by_role("link", name="Join Cake counter").click()
    page.wait_for_url("**/corner-bakery/q/counter/")
    check_page(page, "j3-shop-2-take-a-number")
    keyboard_type(page, page.get_by_label("What do you need?"), "A lemon drizzle cake for eight")
    keyboard_type(page, page.get_by_label("Email", exact=True), "kim@example.test")
    keyboard_type(page, page.get_by_label("Your name"), "Kim Baker")
    page.keyboard.press("Enter")  # implicit submission from a text field
    page.wait_for_url(re.compile(r"/status/[0-9A-Z-]{15}/$"))
    reference = page.url.rstrip("/").rsplit("/", 1)[-1]
    state = page.locator('[data-live-field="state"]')
    expect(state).to_have_text("received")
    expect(page.locator('[data-live-field="position"]')).to_have_text(re.compile(r"^\d+$"))
    wait_live(page)
    check_page(page, "j3-shop-3-status-received")
    mark_no_reload(page)

    staff_context = browser.new_context(viewport={"width": 1200, "height": 900})
    staff_context.set_default_timeout(15_000)
    staff = staff_context.new_page()
    login(staff, live_app, "shop@demo.virtualq.test")
    staff.goto(live_app.url("/dashboard/corner-bakery/queues/counter/"))
    check_page(staff, "j3-shop-4-board")
    staff.locator(f'a[href$="/tickets/{reference}/"]').first.click()
    staff.wait_for_url(f"**/tickets/{reference}/")
    expect(staff.get_by_role("heading", level=1)).to_have_text(reference)
    check_page(staff, "j3-shop-5-ticket-received")

    actions = staff.locator("section", has=staff.get_by_role("heading", name="Actions"))
    for button, new_state in [("Start", "in progress"), ("Ready", "ready"), ("Picked up", "completed")]:
        actions.get_by_role("button", name=button, exact=True).click()
        expect(staff.locator(".messages")).to_contain_text(f"{reference} is now {new_state}")
        expect(state).to_have_text(new_state)  # the customer's page, live
    expect(actions).to_contain_text("No further actions")
    history = staff.locator("section", has=staff.get_by_role("heading", name="History")).locator("li")
    expect(history).to_have_count(4)
    for step in ["submitted", "Start → in progress", "Ready → ready", "Picked up → completed"]:
        expect(history.filter(has_text=step)).to_have_count(1)
    check_page(staff, "j3-shop-6-ticket-completed")

    assert_not_reloaded(page)
    expect(page.locator('[data-live-field="position"]')).to_have_text("—")
    page.reload()
    expect(page.locator(".q-history li")).to_have_count(4)
    snap(page, "j3-shop-7-status-completed")
    staff_context.close()
