"""What every page has (issue 16): a favicon (linked, and /favicon.ico answered), a meta description
(per page where it makes sense, tenant text escaped), robots.txt, and compressed HTML except where a
CSRF token or another secret could be guessed through the compressed size (BREACH)."""

import gzip
import html
import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests import factories
from tests.ticketing.factories import buy, make_event

pytestmark = pytest.mark.django_db

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}


def meta_description(body: str) -> str:
    found = re.search(r'<meta name="description" content="([^"]*)">', body)
    assert found, "no meta description"
    return html.unescape(found.group(1))


def test_favicon_is_linked_and_answered(client):
    body = client.get("/").content.decode()
    assert re.search(r'<link rel="icon" href="[^"]*favicon\.svg" type="image/svg\+xml">', body)
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.ico")
    from django.contrib.staticfiles import finders

    icon = Path(finders.find("favicon.ico"))
    assert icon.read_bytes()[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert Path(finders.find("favicon.svg")).read_text().startswith("<svg")


def test_robots_txt_is_valid_and_keeps_crawlers_off_staff_pages(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *" and "Disallow: /dashboard/" in lines
    assert all(re.fullmatch(r"(User-agent|Disallow|Allow): \S+", line) for line in lines if line)


def test_meta_descriptions_per_page_with_tenant_text_escaped(client):
    tenant = factories.TenantFactory(name='Owls "Live" <b>')
    event = make_event(tenant=tenant, title='Night <script>"x"</script>')
    home = client.get("/").content.decode()
    assert "virtual queues" in meta_description(home)
    listing = client.get(
        reverse("ticketing_public:events", kwargs={"tenant_slug": tenant.slug})
    ).content.decode()
    assert meta_description(listing) == 'Upcoming events from Owls "Live" <b>: dates, venues and tickets.'
    detail = client.get(
        reverse("ticketing_public:event", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug})
    ).content.decode()
    description = meta_description(detail)
    assert description.startswith('Night <script>"x"</script> on ') and "tickets, prices" in description
    assert '<script>"x"' not in detail  # only ever escaped
    tenant_home = client.get(reverse("tenant_home", kwargs={"tenant_slug": tenant.slug})).content.decode()
    assert meta_description(tenant_home).startswith('Owls "Live" <b> on VirtualQ')


def test_html_is_compressed_where_no_secret_can_leak(client, tenant, owner):
    event = make_event(tenant=tenant, tiers=(("General", 1000, 5),))
    listing = client.get(reverse("ticketing_public:events", kwargs={"tenant_slug": tenant.slug}), **GZIP)
    assert listing["Content-Encoding"] == "gzip" and "Accept-Encoding" in listing["Vary"]
    assert b"Upcoming events" in gzip.decompress(listing.content)
    # Without Accept-Encoding, plain.
    plain = client.get(reverse("ticketing_public:events", kwargs={"tenant_slug": tenant.slug}))
    assert not plain.has_header("Content-Encoding")
    # A page with a CSRF token is compressed only when nothing the visitor chose is reflected beside it
    # (no query string): the event page is, a search result page (which echoes the query) is not.
    detail_url = reverse(
        "ticketing_public:event", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug}
    )
    detail = client.get(detail_url, **GZIP)
    assert detail["Content-Encoding"] == "gzip" and b"csrfmiddlewaretoken" in gzip.decompress(detail.content)
    searched = client.get(
        reverse("ticketing_public:events", kwargs={"tenant_slug": tenant.slug}), {"q": "night"}, **GZIP
    )
    assert b"csrfmiddlewaretoken" in searched.content and not searched.has_header("Content-Encoding")
    # The CSRF token differs in every response (masked), so it is no stable secret to converge on.
    tokens = {
        re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', client.get(detail_url).content).group(1)
        for _ in range(3)
    }
    assert len(tokens) == 3
    # Errors are not compressed (they may echo the address).
    missing = client.get(f"/{tenant.slug}/e/no-such-event/", **GZIP)
    assert missing.status_code == 404 and not missing.has_header("Content-Encoding")
    # Nor a page addressed by a secret (an order), nor anything a signed-in person sees.
    order = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 1})
    ticket = order.tickets.get()
    secret_page = client.get(
        reverse("ticketing_public:ticket", kwargs={"tenant_slug": tenant.slug, "code": ticket.code}), **GZIP
    )
    assert secret_page.status_code == 200 and not secret_page.has_header("Content-Encoding")
    with_credentials = client.get(
        reverse("ticketing_public:events", kwargs={"tenant_slug": tenant.slug}),
        HTTP_AUTHORIZATION="Bearer x",
        **GZIP,
    )
    assert not with_credentials.has_header("Content-Encoding")
    client.force_login(owner)
    signed_in = client.get(reverse("ticketing_public:events", kwargs={"tenant_slug": tenant.slug}), **GZIP)
    assert signed_in.status_code == 200 and not signed_in.has_header("Content-Encoding")


def test_every_page_declares_its_language(client):
    assert re.search(r'<html lang="[a-z]{2}', client.get("/").content.decode())
