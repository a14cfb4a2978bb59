"""The main dashboard pages of every demo tenant, found through the dashboard's own navigation (so a new
app's section is checked as soon as it adds a nav entry): each loads for its owner, has a heading, and
has no serious or critical axe-core violation. (The pages below them — a queue board, a ticket, an
event, an order, check-in, a waitlist, a support ticket — are checked by the journeys that use them.)"""

import pytest

from tests.e2e.conftest import axe_violations, login

pytestmark = pytest.mark.browser

# In this order each app's pages are first seen where the demo data fills them (events at the promoter,
# the help desk at campus-help, queues at Ava's); a page already checked for another tenant is skipped.
OWNERS = {
    "nightowl-live": "promoter@demo.virtualq.test",
    "campus-help": "helpdesk@demo.virtualq.test",
    "ava-sings": "creator@demo.virtualq.test",
    "corner-bakery": "shop@demo.virtualq.test",
}


def _dashboard_links(page, prefix: str, *, scope: str) -> list[str]:
    hrefs = page.eval_on_selector_all(f"{scope} a[href]", "(links) => links.map((a) => a.pathname)")
    return [href for href in dict.fromkeys(hrefs) if href.startswith(prefix)]


def _route(path: str, slug: str) -> str:
    """The page's kind: the path without its tenant and with ids and references blanked."""
    parts = path.replace(f"/{slug}/", "/<tenant>/").strip("/").split("/")
    return "/".join("<id>" if any(c.isdigit() for c in part) else part for part in parts)


def test_dashboard_pages_are_accessible(live_app, browser):
    seen: set[str] = set()
    checked, problems = [], {}
    for slug, owner in OWNERS.items():
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        context.set_default_timeout(15_000)
        page = context.new_page()
        login(page, live_app, owner)
        home = f"/dashboard/{slug}/"
        page.goto(live_app.url(home))
        sections = [home, *_dashboard_links(page, home, scope="nav.dashboard-nav")]
        assert len(sections) >= 2, f"{slug}: no dashboard sections in the navigation"
        pages = []
        for section in sections:
            if _route(section, slug) not in seen:
                seen.add(_route(section, slug))
                pages.append(section)
        for path in pages:
            response = page.goto(live_app.url(path))
            assert response.status == 200, f"{path}: {response.status}"
            assert page.locator("h1").count() >= 1, path
            violations = axe_violations(page)
            if violations:
                problems[path] = violations
            checked.append(path)
        context.close()
    assert len(checked) >= 6, checked
    assert problems == {}, problems
