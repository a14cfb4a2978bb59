"""Journey: an owner invites a staff member by email; the invited person opens the emailed link in
another browser, signs up through allauth's sign-up (the address counts as verified: no second email),
lands on the team's dashboard and sees only that tenant."""

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_page, login, wait_for_email

pytestmark = pytest.mark.browser


def test_owner_invites_staff_who_accepts_and_sees_only_that_tenant(live_app, browser, page):
    email = f"new-staff-{secrets.token_hex(4)}@example.test"
    login(page, live_app, "promoter@demo.virtualq.test")
    page.goto(live_app.url("/dashboard/nightowl-live/team/"))
    check_page(page, "jt-team-1-members")
    page.get_by_label("Email address").fill(email)
    page.locator("#id_invite-role").select_option("staff")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".messages")).to_contain_text(f"Invitation sent to {email}")
    pending = page.locator("table", has=page.get_by_role("columnheader", name="Link"))
    expect(pending).to_contain_text(email)
    check_page(page, "jt-team-2-pending")

    text = wait_for_email(live_app, lambda t: email in t and "/accounts/invitations/" in t)
    link = re.search(r"https?://\S+/accounts/invitations/[\w-]+/", text).group(0)
    path = link[link.index("/accounts/") :]

    invited_context = browser.new_context(viewport={"width": 390, "height": 844})
    invited_context.set_default_timeout(15_000)
    invited = invited_context.new_page()
    invited.goto(live_app.url(path))
    expect(invited.get_by_role("heading", level=1)).to_have_text("Join Night Owl Live")
    check_page(invited, "jt-team-3-invitation")
    invited.get_by_role("button", name="Sign up to accept").click()
    invited.wait_for_url("**/accounts/signup/**")
    expect(invited.get_by_label("Email")).to_have_value(email)
    check_page(invited, "jt-team-4-signup")
    invited.get_by_label("Your name").fill("Nia New")
    invited.locator("#id_password1").fill("a long pass phrase 42")
    invited.get_by_role("button", name="Sign up").click()
    invited.wait_for_url("**/dashboard/nightowl-live/")
    expect(invited.get_by_role("heading", level=1)).to_have_text("Night Owl Live")
    check_page(invited, "jt-team-5-dashboard")
    # Only that tenant: another tenant's dashboard is a 404, there is no tenant switcher.
    response = invited.goto(live_app.url("/dashboard/ava-sings/"))
    assert response.status == 404
    expect(invited.locator("#tenant-switch")).to_have_count(0)
    invited.goto(live_app.url("/dashboard/nightowl-live/team/"))
    expect(invited.get_by_role("button", name="Leave this team")).to_be_visible()
    expect(invited.get_by_role("button", name="Send invitation")).to_have_count(0)

    # The owner sees the new member and the acceptance in the audit log.
    page.goto(live_app.url("/dashboard/nightowl-live/team/audit/"))
    expect(page.locator("table")).to_contain_text("Invitation accepted")
    expect(page.locator("table")).to_contain_text(email)
    check_page(page, "jt-team-6-audit")
    invited_context.close()
