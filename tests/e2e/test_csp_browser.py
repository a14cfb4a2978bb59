"""The Content-Security-Policy in a real browser: the public pages, a live status page, the dashboard and
the admin's JSON editor run under the strict policy without a single violation (Chromium reports each
blocked inline script, style or connection as a `securitypolicyviolation` event and a console error),
the live socket still connects, and the admin's workflow editor still starts."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login, wait_live

pytestmark = pytest.mark.browser

WATCH = """() => {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__cspViolations.push(event.violatedDirective + ' ' + event.blockedURI);
  });
}"""


def watch_violations(page) -> list[str]:
    """Collect CSP reports from every page the browser opens from now on."""
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.add_init_script(f"({WATCH})()")
    return problems


def page_violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations || []")


def test_public_pages_and_a_live_status_page_have_no_csp_violation(live_app, page):
    problems = watch_violations(page)
    for path in ("/", "/ava-sings/", "/ava-sings/q/requests/", "/nightowl-live/e/midnight-echoes/"):
        response = page.goto(live_app.url(path))
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        assert page_violations(page) == [], path
    # A request sent from the public form lands on its status page, whose socket connects under the policy.
    page.goto(live_app.url("/ava-sings/q/requests/"))
    page.get_by_label("Your name").fill("Cass Policy")
    page.get_by_label("Email", exact=True).fill("cass.policy@example.test")
    page.get_by_label("What do you need?").fill("A song under a strict policy")
    page.get_by_role("radio", name=re.compile(r"^Personal")).check()
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r"/status/[0-9A-Z-]{15}/$"))
    wait_live(page)
    assert page_violations(page) == []
    assert problems == []


def test_dashboard_and_admin_editor_have_no_csp_violation(live_app, browser, page):
    problems = watch_violations(page)
    login(page, live_app, "admin@demo.virtualq.test")
    page.goto(live_app.url("/admin/"))
    assert page_violations(page) == []
    page.goto(live_app.url("/admin/queues/tickettype/add/"))
    # The JSON editor (django-jsonschema-form) starts from our static file, not an inline script.
    editor = page.locator(".jsonschema-editor")
    expect(editor.locator("input, select, textarea").first).to_be_attached()
    assert page_violations(page) == []
    assert problems == []
    creator = browser.new_context().new_page()
    problems = watch_violations(creator)
    login(creator, live_app, "creator@demo.virtualq.test")
    creator.goto(live_app.url("/dashboard/ava-sings/queues/"))
    assert page_violations(creator) == []
    assert problems == []
    creator.context.close()
