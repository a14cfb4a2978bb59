"""Journeys through the foundation: public pages, logging in, the dashboard and the admin."""

import pytest

from tests.e2e.conftest import axe_violations, login, screenshot

pytestmark = pytest.mark.browser


def test_public_pages_are_accessible(live_app, page):
    for path, name in [("/", "home"), ("/accounts/login/", "login"), ("/ava-sings/", "tenant-home")]:
        page.goto(live_app.url(path))
        assert page.locator("h1").first.is_visible()
        assert axe_violations(page) == [], path
        screenshot(page, f"foundation-{name}")


def test_owner_logs_in_and_switches_dashboards(live_app, page):
    login(page, live_app, "staff@demo.virtualq.test")
    page.goto(live_app.url("/dashboard/?all"))
    assert page.get_by_role("link", name="Corner Bakery").is_visible()
    assert page.get_by_role("link", name="Campus Help Desk").is_visible()
    assert axe_violations(page) == []
    page.get_by_label("Switch tenant").select_option("campus-help")
    page.get_by_role("button", name="Switch").click()
    page.wait_for_url("**/dashboard/campus-help/")
    assert page.get_by_role("heading", level=1).inner_text() == "Campus Help Desk"
    assert axe_violations(page) == []
    screenshot(page, "foundation-dashboard")
    # A tenant this user does not belong to is a 404, not a peek.
    response = page.goto(live_app.url("/dashboard/ava-sings/"))
    assert response.status == 404


def test_wrong_password_keeps_the_email_and_says_why(live_app, page):
    page.goto(live_app.url("/accounts/login/"))
    page.get_by_label("Email").fill("creator@demo.virtualq.test")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_label("Email").input_value() == "creator@demo.virtualq.test"


def test_keyboard_only_login(live_app, page):
    page.goto(live_app.url("/accounts/login/"))
    page.get_by_label("Email").focus()
    page.keyboard.type("creator@demo.virtualq.test")
    page.keyboard.press("Tab")
    page.keyboard.type("virtualq-demo")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/dashboard/" in url)


def test_operator_uses_the_admin(live_app, page):
    login(page, live_app, "admin@demo.virtualq.test")
    page.goto(live_app.url("/admin/tenants/tenant/"))
    assert page.get_by_role("link", name="Ava Sings").is_visible()
    page.goto(live_app.url("/admin/tenants/membership/?role__exact=staff"))
    assert page.get_by_text("staff@demo.virtualq.test").first.is_visible()
    screenshot(page, "foundation-admin")


def test_the_accessibility_check_can_fail(live_app, page):
    """Guards the guard: axe must report a serious problem when there is one."""
    page.goto(live_app.url("/"))
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<button></button><img src=x.png>')")
    assert {violation["id"] for violation in axe_violations(page)} & {"button-name", "image-alt"}
