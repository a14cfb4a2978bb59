"""The site in German: the switcher changes the language and it sticks; the base pages (home, log in,
sign up, not found) carry no English left, and stay axe clean."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_page
from tests.e2e.i18n import assert_no_english, german

pytestmark = pytest.mark.browser


def test_the_switcher_changes_the_language_and_it_sticks(live_app, page):
    page.goto(live_app.url("/"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_label("Site language").select_option("de")
    page.get_by_role("button", name="Change language").click()
    page.wait_for_url(live_app.url("/"))
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Warteschlangen und Tickets – ohne Anstehen")
    page.get_by_role("link", name="Anmelden").first.click()
    page.wait_for_url("**/accounts/login/**")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_label("Sprache der Website")).to_have_value("de")


def test_base_pages_in_german_have_no_english_left(live_app, browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(15_000)
    german(context, live_app)
    page = context.new_page()
    try:
        page.goto(live_app.url("/"))
        tenant_names = page.locator(".card-list .card").all_inner_texts()
        assert_no_english(page, allow=tenant_names)
        check_page(page, "i18n-de-home")
        for path, name in (
            ("/accounts/login/", "login"),
            ("/accounts/signup/", "signup"),
            ("/no/such/page/x/", "404"),
        ):
            page.goto(live_app.url(path))
            assert_no_english(page)
            check_page(page, f"i18n-de-{name}")
    finally:
        context.close()
