"""Output encoding: text that a tenant or a customer wrote is shown escaped on every page.

Every free-text column of every row that the world's tenant owns is made hostile (a tag appended), the
custom-fields schema of a public form gets hostile titles, descriptions and choices, and then every page
found from the URL conf (anonymous, as the owner) and every admin page is fetched: the tag never appears
raw, only escaped. Emails' HTML parts are checked the same way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.test import Client

from notifications.channels import render_email
from notifications.models import OutboxMessage
from queues import services as queue_services
from queues.models import QueueKind
from queues.workflow import CREATOR_REQUEST
from tests.factories import UserFactory
from tests.reliability.pages import admin_urls, page_urls
from tests.reliability.test_abuse import World

pytestmark = pytest.mark.django_db

HOSTILE = "<i data-vq-hostile>"
# Data, not markup (a CSV export is a spreadsheet: its cells are guarded against formulas instead).
JSON_TYPES = {"application/json", "application/problem+json", "application/x-ndjson", "text/csv"}
# Every app of this project (a folder at the checkout's top), so a new app is covered without a list.
PROJECT_APPS = {
    config.label for config in apps.get_app_configs() if Path(config.path).parent == settings.BASE_DIR
}
# Columns that are identifiers, machine values or secrets, not prose a person wrote and reads back.
NOT_PROSE = re.compile(
    r"state|status|code|reference|token|currency|zone|key|kind|event|type|password|hash|secret|prefix|"
    r"channel|recipient|signature|idempot|email|phone|url|slug|path|file|^ip|address|method|provider|"
    r"role|icon|colou?r|format|language|locale|unit|mime|sha|uid|digest|template|action|handle"
)


def prose_columns():
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS or model._meta.proxy:
            continue
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.CharField | models.TextField):
                continue
            if isinstance(field, models.SlugField | models.EmailField | models.URLField):
                continue
            if field.choices or field.unique or field.primary_key or NOT_PROSE.search(field.name):
                continue
            if field.max_length is not None and field.max_length < 2 * len(HOSTILE):
                continue
            yield model, field


def make_everything_hostile() -> list[str]:
    touched = []
    for model, field in prose_columns():
        for row in model._base_manager.all():
            value = getattr(row, field.attname) or ""
            if field.max_length:
                value = value[: field.max_length - len(HOSTILE)]
            model._base_manager.filter(pk=row.pk).update(**{field.attname: value + HOSTILE})
        touched.append(f"{model._meta.label}.{field.name}")
    return touched


@pytest.fixture
def world(django_capture_on_commit_callbacks, settings):
    settings.RATE_LIMIT_LOOKUPS = "100000/60"
    cache.clear()
    world = World(django_capture_on_commit_callbacks)
    world.operator = UserFactory(is_staff=True, is_superuser=True)
    kind = queue_services.ticket_type_save(
        tenant=world.tenant,
        actor=None,
        code="hostile",
        name="Hostile",
        workflow=CREATOR_REQUEST,
        custom_fields_schema={
            "type": "object",
            "title": f"Form {HOSTILE}",
            "properties": {
                "song": {"type": "string", "title": f"Song {HOSTILE}", "description": f"Pick {HOSTILE}"},
                "mood": {"type": "string", "title": "Mood", "enum": ["calm", f"wild {HOSTILE}"]},
                "count": {"type": "integer", "title": "How many", "description": f"<b>{HOSTILE}</b>"},
                "extras": {
                    "type": "array",
                    "title": "Extras",
                    "items": {"type": "string", "enum": [f"x {HOSTILE}"]},
                },
            },
        },
    )
    world.hostile_queue = queue_services.queue_create(
        tenant=world.tenant,
        actor=None,
        slug="hostile",
        name="Hostile",
        kind=QueueKind.CREATOR,
        ticket_type=kind,
    )
    yield world
    cache.clear()


def test_a_json_schema_description_on_a_public_form_is_escaped(world, client):
    response = client.get(f"/{world.tenant.slug}/q/{world.hostile_queue.slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert HOSTILE not in html
    for shown in ("Song &lt;i data-vq-hostile&gt;", "Pick &lt;i data-vq-hostile&gt;", "&lt;b&gt;"):
        assert shown in html, shown


def test_no_tenant_or_customer_text_is_shown_raw_on_any_page(world):
    touched = make_everything_hostile()
    for column in (
        "tenants.Tenant.name",
        "queues.Queue.name",
        "ticketing.Event.title",
        "queues.Ticket.need_text",
    ):
        assert column in touched, column
    anonymous, owner, operator = Client(), Client(), Client()
    owner.force_login(world.owner)
    operator.force_login(world.operator)
    pages = [(name, url, client) for name, url in page_urls(world) for client in (anonymous, owner)]
    pages += [(name, url, operator) for name, url in admin_urls(world)]
    pages.append(("hostile form", f"/{world.tenant.slug}/q/{world.hostile_queue.slug}/", anonymous))
    raw, shown = [], 0
    for name, url, client in pages:
        response = client.get(url)
        assert response.status_code < 500, (name, url, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        content = body.decode(errors="replace")
        if response.get("Content-Type", "").split(";")[0] in JSON_TYPES:
            # Data, not markup: an API client must get what the person wrote. It is safe because it is
            # never sniffed as HTML.
            assert response.get("X-Content-Type-Options") == "nosniff", (name, url)
            continue
        if HOSTILE in content:
            raw.append((name, url))
        shown += "data-vq-hostile" in content
    assert raw == []
    assert shown > 40  # the hostile text really is on the pages, escaped


def test_emails_escape_what_people_wrote(world):
    make_everything_hostile()
    messages = list(OutboxMessage.objects.filter(tenant=world.tenant, channel="email"))
    assert messages
    for message in messages:
        message.payload = {**(message.payload or {}), "body": f"Hi {HOSTILE}", "subject": f"S {HOSTILE}"}
        email = render_email(message)
        html = email.alternatives[0][0]
        assert HOSTILE not in html and "&lt;i data-vq-hostile&gt;" in html
