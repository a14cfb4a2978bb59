"""Content-Security-Policy: every page of the site, the admin included, is served with the strict
policy (scripts and styles from our own origin only), and none of them carries inline code that the
policy would block (inline <script>, style= attributes, on*= handlers, javascript: URLs). The pages are
found from the URL conf, so a new page is checked without editing this file."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from core.csp import STRIPE_SOURCES, allow_stripe
from tests.factories import UserFactory
from tests.reliability.pages import admin_urls, inline_code, page_urls
from tests.reliability.test_abuse import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(django_capture_on_commit_callbacks, settings):
    settings.RATE_LIMIT_LOOKUPS = "100000/60"
    cache.clear()
    world = World(django_capture_on_commit_callbacks)
    world.operator = UserFactory(is_staff=True, is_superuser=True)
    yield world
    cache.clear()


def policy_of(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_strict(policy: dict[str, list[str]], where: str) -> None:
    assert policy.get("script-src") == ["'self'"], where
    assert policy.get("style-src") == ["'self'"], where
    assert policy.get("default-src") == ["'self'"], where
    assert policy.get("object-src") == ["'none'"] and policy.get("base-uri") == ["'none'"], where
    assert policy.get("frame-ancestors") == ["'none'"], where


def test_every_page_and_the_admin_carry_the_strict_policy_and_no_inline_code(world):
    anonymous, owner, operator = Client(), Client(), Client()
    owner.force_login(world.owner)
    operator.force_login(world.operator)
    pages = [(name, url, client) for name, url in page_urls(world) for client in (anonymous, owner)]
    pages += [(name, url, operator) for name, url in admin_urls(world)]
    shown = []
    for name, url, client in pages:
        response = client.get(url)
        assert response.status_code < 500, (name, url, response.status_code)
        assert_strict(policy_of(response), f"{name} {url}")
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            html = response.content.decode()
            assert inline_code(html) == [], (name, url, inline_code(html))
            shown.append(name)
    # The crawl really reached the public pages, the dashboards and the admin's editors.
    for known in (
        "ticketing_public:event",
        "queues_public:submit",
        "queues:queue_board",
        "admin:queues_tickettype_add",
    ):
        assert known in shown, known
    assert len(set(shown)) > 80


def test_error_pages_carry_the_policy_too(client):
    assert_strict(policy_of(client.get("/no-such-tenant/no/such/page/")), "404")
    assert_strict(policy_of(client.get(reverse("healthz"))), "healthz")


def test_allow_stripe_widens_the_policy_for_that_view_only(rf, client):
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse

    @allow_stripe
    def pay(request):
        return HttpResponse("<p>pay</p>")

    request = rf.get("/pay/")
    middleware = CSPMiddleware(lambda request: pay(request))
    policy = policy_of(middleware(request))
    for directive, sources in STRIPE_SOURCES.items():
        assert set(sources) <= set(policy[directive]), directive
    assert "'unsafe-inline'" not in policy["script-src"]
    assert_strict(policy_of(client.get(reverse("home"))), "home")  # the rest of the site is untouched
