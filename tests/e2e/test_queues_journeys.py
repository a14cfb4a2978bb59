"""Queues in a real browser: a fan submits a request and watches the status page while the creator
approves it in the dashboard — the fan's page updates over the websocket, without a reload."""

import re

import pytest

from tests.e2e.conftest import axe_violations, login, screenshot, wait_live

pytestmark = pytest.mark.browser


def test_fan_submits_creator_approves_status_updates_live(live_app, browser, page):
    # The fan fills in the public form.
    page.goto(live_app.url("/ava-sings/q/requests/"))
    assert axe_violations(page) == []
    screenshot(page, "queues-submit")
    page.get_by_label("Your name").fill("Robin Fan")
    page.get_by_label("Email", exact=True).fill("robin@example.test")
    page.get_by_label("What do you need?").fill("Please sing 'Yesterday' for my mum")
    page.get_by_label("Personal", exact=True).check()
    page.get_by_label("Email me when my request moves").check()
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r"/status/[0-9A-Z-]{15}/$"))
    reference = page.url.rstrip("/").rsplit("/", 1)[-1]
    assert reference in page.get_by_role("status").inner_text()  # "your reference number is …"
    state = page.locator('[data-live-field="state"]')
    assert state.inner_text() == "pending"
    wait_live(page)
    assert axe_violations(page) == []
    screenshot(page, "queues-status-pending")

    # The creator approves it from the dashboard, in another browser.
    creator_context = browser.new_context(viewport={"width": 1200, "height": 900})
    creator = creator_context.new_page()
    login(creator, live_app, "creator@demo.virtualq.test")
    creator.goto(live_app.url("/dashboard/ava-sings/queues/requests/"))
    assert axe_violations(creator) == []
    row = creator.locator("tr", has_text=reference)
    row.get_by_role("button", name="Approve").click()
    creator.wait_for_load_state()
    assert "approved" in creator.locator(".messages").inner_text()
    screenshot(creator, "queues-dashboard-board")

    # The fan's page changes by itself: no reload.
    page.wait_for_function(
        "() => document.querySelector('[data-live-field=\"state\"]').textContent === 'approved'"
    )
    assert page.locator('[data-live-field="position"]').inner_text().isdigit()
    assert page.locator('[data-live-field="phase"]').inner_text() == "You are in line."
    assert page.url.endswith(f"/status/{reference}/")
    screenshot(page, "queues-status-approved")

    # "Call next" in the dashboard moves the fan up (or calls them) — still live.
    before = page.locator('[data-live-field="position"]').inner_text()
    creator.get_by_role("button", name="Call next").click()
    creator.wait_for_load_state()
    page.wait_for_function(
        "(before) => document.querySelector('[data-live-field=\"position\"]').textContent !== before",
        arg=before,
    )
    creator_context.close()


def test_status_lookup_and_small_screen(live_app, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    small = context.new_page()
    small.goto(live_app.url("/ava-sings/"))
    assert small.get_by_text("Now serving").first.is_visible()
    assert small.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(small, "queues-card-360")
    small.goto(live_app.url("/ava-sings/q/requests/"))
    assert small.evaluate("document.documentElement.scrollWidth") <= 360
    small.goto(live_app.url("/status/?reference=AAA-BBB-CCC-DDD"))
    assert small.get_by_role("heading", name="Not found").is_visible()
    assert small.get_by_label("Reference number").is_visible()
    context.close()
