"""The creator's and the help desk's pages in German carry none of the queues' or support's English texts:
every page of the two journeys (public form, status page, board, ticket page; help home, filing form,
customer page, inbox, agent's page) is rendered in German and its visible text searched for each English
msgid of the two catalogs whose German differs (placeholders left out)."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.urls import reverse

from queues import services
from tests.german_text import assert_german, german
from tests.queues.factories import creator_queue, submit, support_queue

pytestmark = pytest.mark.django_db
ROOT = Path(settings.BASE_DIR)
PLACEHOLDER = re.compile(r"%\(\w+\)\w|%%|<[^>]+>")


def english_texts() -> set[str]:
    """English msgids (whole pieces between placeholders, two words or more) whose German differs."""
    texts = set()
    for app in ("queues", "support"):
        with open(ROOT / app / "locale" / "de" / "LC_MESSAGES" / "django.po", "rb") as handle:
            catalog = read_po(handle, locale="de")
        for message in catalog:
            if not message.id or isinstance(message.id, tuple):
                continue
            if message.string == message.id:
                continue
            for piece in PLACEHOLDER.split(message.id):
                piece = piece.strip(" .:;,()—·")
                if len(piece.split()) >= 2 and re.search(r"[a-z]{3}", piece):
                    texts.add(piece)
    return texts


def test_the_creator_journey_pages_speak_german(client, tenant, owner):
    english = english_texts()
    queue = creator_queue(tenant, default_service_minutes=5)
    ahead = submit(queue, "priority")
    services.ticket_approve(tenant=tenant, actor=owner, ticket=ahead)
    mine = submit(queue, "personal")
    services.ticket_approve(tenant=tenant, actor=owner, ticket=mine)
    public = [
        reverse("queues_public:submit", args=[tenant.slug, queue.slug]),
        reverse("queues:status", args=[mine.reference]),
        reverse("queues:status_lookup"),
    ]
    for url in public:
        text = german(client, url)
        assert_german(text, url, english)
    assert "Sie sind in der Warteschlange." in german(client, public[1])
    client.force_login(owner)
    for url in [
        reverse("queues:queue_board", args=[tenant.slug, queue.slug]),
        reverse("queues:ticket_detail", args=[tenant.slug, mine.reference]),
        reverse("queues:ticket_list", args=[tenant.slug, queue.slug]),
        reverse("queues:queue_list", args=[tenant.slug]),
    ]:
        assert_german(german(client, url), url, english)


def test_the_help_desk_journey_pages_speak_german(client, tenant, owner):
    english = english_texts()
    owner.language = "de"  # a German-speaking team: the notices it gets (listed on the ticket) are German too
    owner.save(update_fields=["language"])
    queue = support_queue(tenant)
    ticket = submit(queue, title="Printer jammed", need_text="It makes a noise")
    services.ticket_transition(tenant=tenant, actor=owner, ticket=ticket, event="start")
    for url in [
        reverse("support_public:help_home", args=[tenant.slug]),
        reverse("support_public:submit", args=[tenant.slug, queue.slug]),
        reverse("support:customer_ticket", args=[ticket.reference]),
    ]:
        assert_german(german(client, url), url, english)
    client.force_login(owner)
    for url in [
        reverse("support:inbox", args=[tenant.slug]),
        reverse("support:ticket", args=[tenant.slug, ticket.reference]),
    ]:
        text = german(client, url)
        assert_german(text, url, english)
    assert "in Bearbeitung" in text
