"""Issue 15 #11: time is shown honestly.

Every time of day a page shows carries its zone (the thing's own: the venue's for events, the queue's
for queues and help desks, the tenant's for its dashboard records), through one formatter
(``core.times.format_zoned``: the ``{% when %}`` tag, the ``|zoned`` filter, ``{% at %}``); one
ticket's history is in one zone whoever looks at it (the customer, the staff board, the agent page).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.template import Context, Template
from django.test import Client
from django.urls import reverse

from queues import services as queue_services
from support import services as support_services
from tenants.models import Membership
from tests.factories import UserFactory
from tests.queues.factories import service_queue, submit
from tests.reliability.pages import page_urls
from tests.reliability.test_abuse import World
from tests.support.factories import agents, file_ticket, support_queue

pytestmark = pytest.mark.django_db

TIME_OF_DAY = re.compile(r"(?<![\d:.,-])(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?![\d:])")
ZONE = re.compile(r"\b(?:UTC(?:[+-]\d{2}(?::?\d{2})?)?|GMT|[A-Z]{2,5}T|[A-Z]{3,5})\b")
# Text a person reads: no scripts, styles, form controls (typed values, not times shown) or attributes.
HIDDEN = re.compile(
    r"<(script|style|textarea|select|template)\b.*?</\1>|<input\b[^>]*>|<!--.*?-->", re.I | re.S
)
TAG = re.compile(r"<[^>]+>")
HOURS_RANGE = re.compile(r"\b\d{2}:\d{2}\s*[-–]\s*\d{2}:\d{2}\b")
AFTER = 40  # how far after a time its zone may come (past a date: "02:10, Tuesday 8 December GMT")


def shown_text(html: str) -> str:
    return re.sub(r"\s+", " ", TAG.sub(" ", HIDDEN.sub(" ", html)))


def times_without_zone(text: str) -> list[str]:
    """Each time of day in ``text`` that no zone abbreviation follows within the same phrase (the
    formatter puts it right after, or after a date that follows: "20:00 on Sat 12 Dec CET")."""
    missing = []
    # Opening hours ("Mon-Fri 09:00-17:00") are a daily schedule in the desk's zone, named beside them.
    text = HOURS_RANGE.sub(" ", text)
    for match in TIME_OF_DAY.finditer(text):
        after = text[match.end() : match.end() + AFTER]
        if not ZONE.search(after):
            missing.append(text[max(0, match.start() - 40) : match.end() + 22])
    return missing


@pytest.fixture
def world(django_capture_on_commit_callbacks, settings):
    settings.RATE_LIMIT_LOOKUPS = "100000/60"
    cache.clear()
    world = World(django_capture_on_commit_callbacks)
    world.operator = UserFactory(is_staff=True, is_superuser=True)
    yield world
    cache.clear()


def test_the_formatter_names_the_zone_on_both_sides_of_a_change():
    template = Template('{% load vq %}{% when value zone "D j M, H:i" %} | {{ value|zoned:zone }}')
    winter = datetime(2026, 1, 10, 19, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 10, 18, 0, tzinfo=UTC)
    render = lambda value, zone: template.render(Context({"value": value, "zone": zone}))  # noqa: E731
    assert render(winter, "Europe/London") == (
        '<time datetime="2026-01-10T19:00:00+00:00">Sat 10 Jan, 19:00 GMT</time> | Jan 10, 19:00 GMT'
    )
    assert "Fri 10 Jul, 19:00 BST" in render(summer, "Europe/London")
    assert "Sat 10 Jan, 14:00 EST" in render(winter, "America/New_York")
    assert "Sat 10 Jan, 23:00 UTC+04" in render(winter, "Asia/Dubai")  # no letters: the offset
    assert (
        Template('{% load vq %}{% when value "UTC" "j F Y" %}')
        .render(Context({"value": winter}))
        .endswith(">10 January 2026</time>")
    )  # a date alone needs no zone


def test_every_time_on_the_main_pages_carries_its_zone(world):
    anonymous, owner = Client(), Client()
    owner.force_login(world.owner)
    checked, offenders = set(), []
    for name, url in page_urls(world):
        for client in (anonymous, owner):
            response = client.get(url)
            if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
                continue
            text = shown_text(response.content.decode())
            if TIME_OF_DAY.search(text):
                checked.add(name)
            offenders.extend(f"{name} {url}: …{snippet}…" for snippet in times_without_zone(text))
    assert offenders == [], "\n".join(offenders)
    # The crawl met times on the pages that show the most of them.
    for known in ("ticketing_public:event", "queues:status", "waitingroom_public:room"):
        assert known in checked, (known, sorted(checked))


def _zones_in(html: str, marker: str) -> set[str]:
    """The zone abbreviations in the part of the page from ``marker`` on (the history list)."""
    part = shown_text(html[html.index(marker) :])
    return {ZONE.search(part[m.end() : m.end() + AFTER]).group(0) for m in TIME_OF_DAY.finditer(part)}


def test_one_queue_ticket_history_is_in_the_queue_zone_for_everyone(tenant, owner):
    tenant.time_zone = "Europe/Berlin"
    tenant.save(update_fields=["time_zone"])
    owner.time_zone = "Asia/Tokyo"
    owner.save(update_fields=["time_zone"])
    queue = service_queue(tenant, time_zone="America/New_York")
    ticket = submit(queue)
    for _ in range(2):  # two steps along the workflow, each a history line
        step = ticket.machine.allowed(ticket.state)[0].name
        ticket = queue_services.ticket_transition(tenant=tenant, actor=owner, ticket=ticket, event=step)
    queue_services.ticket_comment_add(tenant=tenant, ticket=ticket, actor=owner, body="On it")
    customer = Client().get(reverse("queues:status", args=[ticket.reference])).content.decode()
    staff = Client()
    staff.force_login(owner)
    board = staff.get(reverse("queues:ticket_detail", args=[tenant.slug, ticket.reference])).content.decode()
    new_york = datetime.now(UTC).astimezone(queue.zone).tzname()
    assert _zones_in(customer, "History") == {new_york}
    assert _zones_in(board, "Submitted") == {new_york}


def test_one_help_desk_ticket_history_is_in_the_desk_zone_for_everyone(tenant, owner, manager, staff):
    staff.time_zone = "Asia/Tokyo"
    staff.save(update_fields=["time_zone"])
    desk = support_queue(tenant, time_zone="America/New_York", agents=agents(staff), hours=[])
    ticket = file_ticket(desk)
    membership = Membership.objects.get(user=staff, tenant=tenant)
    support_services.support_comment_add(
        membership=membership, ticket=ticket, body="Looking", is_internal=False
    )
    support_services.support_ticket_escalate_by_hand(membership=membership, ticket=ticket, reason="Urgent")
    agent = Client()
    agent.force_login(staff)
    page = agent.get(reverse("support:ticket", args=[tenant.slug, ticket.reference])).content.decode()
    customer = Client().get(reverse("support:customer_ticket", args=[ticket.reference])).content.decode()
    new_york = datetime.now(UTC).astimezone(desk.zone).tzname()
    assert _zones_in(page, "Filed") == {new_york}
    assert _zones_in(customer, "Filed") == {new_york}
    inbox = agent.get(reverse("support:inbox", args=[tenant.slug]), {"view": "all"}).content.decode()
    assert _zones_in(inbox, "<tbody") <= {new_york}
