"""Issue 16, buyer side, in a real browser: the event search's filters (sale status, city, a typo in the
text) kept together in the URL; and a full checkout — the second buyer waits on the page and is taken to
the checkout by itself when the first one releases their place, while the first one's hold counts down."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_page, keyboard_type

pytestmark = pytest.mark.browser

TENANT = "nightowl-live"

SINGLE_DOOR_EVENT = """
from datetime import timedelta
from django.utils import timezone
from tenants.models import Tenant
from ticketing import services
from ticketing.models import Event, Venue
tenant = Tenant.objects.get(slug="nightowl-live")
if not Event.objects.for_tenant(tenant).filter(slug="single-door-session").exists():
    venue = Venue.objects.for_tenant(tenant).get(name="The Night Owl")
    start = timezone.now() + timedelta(days=60)
    event = services.event_create(
        tenant=tenant, actor=None, venue=venue, title="Single Door Session", performer="The Waiters",
        starts_at=start, ends_at=start + timedelta(hours=2), checkout_limit=1, currency=tenant.currency,
    )
    services.tier_create(tenant=tenant, actor=None, event=event, name="Standing", price_cents=1500,
                         quantity=50, position=0)
    services.event_publish(tenant=tenant, actor=None, event=event)
"""


def test_search_filters_stay_together_and_forgive_a_typo(live_app, page):
    page.goto(live_app.url(f"/{TENANT}/events/"))
    page.get_by_label("Sale").select_option("on_sale")
    page.get_by_label("City").select_option("London")
    keyboard_type(page, page.get_by_label("Search events"), "Velvit")  # a typo of "Velvet"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/events/\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"q": ["Velvit"], "status": ["on_sale"], "city": ["London"]}
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"\d+ events? found for “Velvit”"))
    expect(page.get_by_role("link", name="Midnight Echoes")).to_be_visible()
    # Every filter is still chosen on the result page, so the next search keeps them.
    expect(page.get_by_label("Sale")).to_have_value("on_sale")
    expect(page.get_by_label("City")).to_have_value("London")
    expect(page.get_by_label("Search events")).to_have_value("Velvit")
    check_page(page, "j16-buyer-1-search-filters")
    page.get_by_label("Sale").select_option("cancelled")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"status=cancelled"))
    assert parse_qs(urlsplit(page.url).query)["city"] == ["London"]
    expect(page.locator(".card-list")).to_contain_text("No events match that search.")
    page.get_by_role("link", name="Clear").click()
    page.wait_for_url(re.compile(rf"/{TENANT}/events/$"))


def test_full_checkout_waits_and_lets_the_buyer_in_by_itself(live_app, browser, page):
    live_app.shell(SINGLE_DOOR_EVENT)
    event_url = live_app.url(f"/{TENANT}/e/single-door-session/")

    # The first buyer takes the only checkout place; their hold counts down live.
    first = browser.new_context(viewport={"width": 1200, "height": 900})
    first.set_default_timeout(15_000)
    holder = first.new_page()
    holder.goto(event_url)
    holder.get_by_label("How many Standing").select_option("1")
    holder.get_by_role("button", name="Continue to checkout").click()
    holder.wait_for_url(re.compile(r"/checkout/[^/]+/$"))
    timer = holder.get_by_role("timer")
    expect(timer).to_have_text(re.compile(r"^(10:00|9:[0-5]\d)$"))
    before = timer.inner_text()
    expect(timer).not_to_have_text(before)  # it ticks
    check_page(holder, "j16-buyer-2-checkout-countdown")

    # The second buyer finds every place taken and waits on the page.
    page.goto(event_url)
    page.get_by_label("How many Standing").select_option("2")
    page.get_by_role("button", name="Continue to checkout").click()
    page.wait_for_url(re.compile(r"/checkout/wait/\?"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Waiting for a checkout place")
    expect(page.locator("[data-live-field=checkout-free]")).to_have_text("Every checkout place is taken.")
    expect(page.get_by_text("2 × Standing")).to_be_visible()
    page.wait_for_function(
        "() => document.querySelector('[data-checkout-wait]').dataset.liveState === 'connected'"
    )
    check_page(page, "j16-buyer-3-waiting-for-a-place")

    # The first buyer gives up their place: the second is taken to the checkout without a click.
    holder.get_by_role("button", name="Cancel and release my tickets").click()
    holder.wait_for_url(event_url)
    page.wait_for_url(re.compile(r"/checkout/(?!wait)[^/]+/$"), timeout=20_000)
    expect(page.get_by_role("heading", level=1)).to_have_text("Checkout")
    expect(page.locator("table").first).to_contain_text("Standing")
    expect(page.locator("tbody tr").first.locator("td").nth(1)).to_have_text("2")
    first.close()


PUBLIC_PAGES = [
    "/",
    f"/{TENANT}/",
    f"/{TENANT}/events/",
    f"/{TENANT}/e/midnight-echoes/",
    f"/{TENANT}/lookup/",
]


def test_public_pages_pass_what_lighthouse_checks(live_app, page):
    """What Lighthouse's best-practices and SEO audits look at, on each public page: no console error (the
    favicon is there), a language, a title and a meta description, every link with discernible text, and
    /robots.txt a valid file."""
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    for path in PUBLIC_PAGES:
        response = page.goto(live_app.url(path))
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
        assert page.evaluate("() => document.documentElement.lang") in ("en", "de", "es"), path
        assert page.title(), path
        description = page.locator('meta[name="description"]').get_attribute("content")
        assert description and len(description) > 20, path
        nameless = page.evaluate(
            "() => [...document.querySelectorAll('a[href]')]"
            ".filter((a) => !(a.innerText.trim() || a.getAttribute('aria-label')"
            " || a.querySelector('img[alt]')))"
            ".map((a) => a.outerHTML)"
        )
        assert nameless == [], (path, nameless)
        icon = page.evaluate(
            "() => fetch('/favicon.ico').then((r) => [r.status, r.headers.get('content-type')])"
        )
        assert icon[0] == 200 and "icon" in icon[1], icon
    assert errors == [], errors
    robots = page.goto(live_app.url("/robots.txt"))
    assert robots.status == 200 and robots.headers["content-type"].startswith("text/plain")
    # The event list is served compressed (no reflected query next to the page's CSRF token).
    listing = page.goto(live_app.url(f"/{TENANT}/events/"))
    assert listing.headers.get("content-encoding") == "gzip"
