"""The help desk in a real browser: a student files a ticket on campus-help's IT desk, the assigned
staff member answers with a public reply and an internal note, the student sees only the public reply
(on the page and by email) and replies; then time is moved past the due time and the escalation shows
in the manager's inbox."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_page, decoded_emails, login, wait_for_email, wait_live

pytestmark = pytest.mark.browser

INTERNAL = "Internal: the student's AD account was locked by 40 failed logins"
PUBLIC = "We unlocked your account; please try logging in again."


def test_customer_ticket_public_and_internal_comments_and_escalation(live_app, browser, page):
    # The student files a ticket through the public help-desk form.
    page.goto(live_app.url("/campus-help/"))
    page.locator(".sd-public").get_by_role("link", name="IT help").click()
    page.wait_for_url(re.compile(r"/campus-help/help/it-help/$"))
    check_page(page, "support-submit")
    page.get_by_label("Your name").fill("Tara Student")
    page.get_by_label("Email", exact=True).fill("tara@example.test")
    page.get_by_label("Short summary").fill("Cannot log in to the library PCs")
    page.get_by_label("Describe the problem").fill("My password is rejected on every library computer.")
    page.get_by_label("How urgent is it?").select_option("high")
    page.get_by_label("Category").select_option("Account")
    page.get_by_label("Email me when the team replies").check()
    page.get_by_role("button", name="Send ticket").click()
    page.wait_for_url(re.compile(r"/status/[0-9A-Z-]{15}/support/$"))
    reference = page.url.rstrip("/").split("/")[-2]
    assert reference in page.get_by_role("status").inner_text()
    assert "open" in page.locator(".q-facts").inner_text()
    check_page(page, "support-customer-filed")
    customer_url = page.url
    wait_live(page)  # the student keeps the ticket page open while the team works

    # The staff member (IT agent, least loaded) answers: a public reply and an internal note.
    staff_context = browser.new_context(viewport={"width": 1280, "height": 900})
    staff = staff_context.new_page()
    login(staff, live_app, "staff@demo.virtualq.test")
    staff.goto(live_app.url("/dashboard/campus-help/support/?view=all"))
    row = staff.locator("tr", has_text=reference)
    assert row.count() == 1
    assert "Due in" in row.inner_text()
    # Sam is an agent of IT only: Facilities tickets are not in his inbox.
    assert "Facilities" not in staff.locator("table").inner_text()
    check_page(staff, "support-inbox-staff")
    row.get_by_role("link", name="Cannot log in to the library PCs").click()
    staff.get_by_role("button", name="Start work").click()
    assert "in progress" in staff.locator(".q-facts").first.inner_text()
    staff.get_by_label("Reply", exact=True).fill(PUBLIC)
    staff.get_by_label("Public reply (the customer sees it and is emailed)").check()
    staff.get_by_role("button", name="Add").click()
    assert "Reply sent to the customer" in staff.locator(".messages").inner_text()
    staff.get_by_label("Reply", exact=True).fill(INTERNAL)
    staff.get_by_label("Internal note (team only)").check()
    staff.get_by_role("button", name="Add").click()
    assert "Internal note added" in staff.locator(".messages").inner_text()
    activity = staff.locator(".sd-activity").inner_text()
    assert PUBLIC in activity and INTERNAL in activity and "Internal note" in activity
    check_page(staff, "support-ticket-staff")

    # The student's open page says the team replied (live, without the text), then shows the public
    # reply only — on the page and in the email.
    expect(page.locator('[data-live-field="changed"]')).to_contain_text("The team replied")
    expect(page.locator('[data-live-field="status"]')).to_have_text("in progress")
    page.goto(customer_url)
    body = page.locator("main").inner_text()
    assert PUBLIC in body
    assert INTERNAL not in body and "AD account" not in body
    check_page(page, "support-customer-reply-visible")
    email = wait_for_email(live_app, lambda text: PUBLIC in text and "tara@example.test" in text)
    assert "AD account" not in email
    assert all("AD account" not in text for text in decoded_emails(live_app))

    # The student replies on their page.
    page.get_by_label("Your reply").fill("Thanks, it works on PC 4 but not on PC 7.")
    page.get_by_role("button", name="Send reply").click()
    assert "your reply was sent" in page.get_by_role("status").inner_text()
    assert "PC 7" in page.locator(".sd-activity").inner_text()

    # Time passes: the ticket is moved past its due time and the escalation runs.
    output = live_app.manage("support_simulate_overdue", reference, "--overdue-by", "5")
    assert "escalation level 1" in output
    manager_context = browser.new_context(viewport={"width": 1280, "height": 900})
    manager = manager_context.new_page()
    login(manager, live_app, "manager@demo.virtualq.test")
    manager.goto(live_app.url("/dashboard/campus-help/support/?view=escalated"))
    row = manager.locator("tr", has_text=reference)
    assert "Escalated L1" in row.inner_text()
    assert "Overdue by" in row.inner_text()
    check_page(manager, "support-inbox-escalated")
    manager.goto(live_app.url("/dashboard/campus-help/support/?view=mine"))
    assert manager.locator("tr", has_text=reference).count() == 1  # reassigned to the manager
    manager.locator("tr", has_text=reference).get_by_role("link").first.click()
    assert "Escalated to level 1" in manager.locator(".sd-activity").inner_text()
    check_page(manager, "support-ticket-escalated")
    # The student still sees nothing internal (no escalation, no note).
    page.goto(customer_url)
    body = page.locator("main").inner_text()
    assert "Escalat" not in body and INTERNAL not in body
    staff_context.close()
    manager_context.close()
