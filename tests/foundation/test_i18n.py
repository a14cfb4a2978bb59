"""Which language a page speaks (cookie > saved language > tenant default > Accept-Language > English),
the switcher, the tenant's default-language page, and the language messages are written in."""

import re

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from notifications import services as notification_services
from notifications.channels import deliver, render_email
from notifications.models import OutboxMessage
from notifications.services import notify
from notifications.types import TICKET_CALLED
from team.models import AuditAction, AuditEntry
from tenants.models import Customer, Role
from tenants.services import customer_upsert
from tests.factories import CustomerFactory, MembershipFactory, TenantFactory

pytestmark = pytest.mark.django_db


def page_language(response) -> str:
    match = re.search(r'<html lang="([^"]+)"', response.content.decode())
    assert match, "the page has no <html lang>"
    return match[1]


def test_english_by_default_and_accept_language_next(client):
    assert page_language(client.get("/")) == "en"
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    assert page_language(response) == "de"
    assert response["Content-Language"] == "de"
    assert page_language(client.get("/", HTTP_ACCEPT_LANGUAGE="fr")) == "en"


def test_switcher_is_on_every_page_and_its_choice_sticks(client, tenant):
    home = client.get("/").content.decode()
    assert 'action="/i18n/setlang/"' in home and 'name="language"' in home
    assert '<label for="language-switch">' in home
    response = client.post(reverse("set_language"), {"language": "es", "next": f"/{tenant.slug}/"})
    assert response.status_code == 302 and response["Location"] == f"/{tenant.slug}/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    # The cookie wins over the browser's languages and over the tenant's default.
    tenant.language = "de"
    tenant.save()
    assert page_language(client.get("/", HTTP_ACCEPT_LANGUAGE="de")) == "es"
    assert page_language(client.get(f"/{tenant.slug}/")) == "es"


def test_switcher_refuses_get_and_ignores_unknown_languages(client):
    assert client.get(reverse("set_language")).status_code == 405
    response = client.post(reverse("set_language"), {"language": "tlh", "next": "/"})
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert page_language(client.get("/")) == "en"


def test_switcher_will_not_redirect_off_site(client):
    response = client.post(reverse("set_language"), {"language": "de", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_switcher_needs_csrf(tenant):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(reverse("set_language"), {"language": "de", "next": "/"}).status_code == 403


def test_tenant_default_applies_on_its_pages_only_and_beats_accept_language(client):
    german = TenantFactory(language="de")
    assert page_language(client.get(f"/{german.slug}/", HTTP_ACCEPT_LANGUAGE="es")) == "de"
    assert page_language(client.get("/", HTTP_ACCEPT_LANGUAGE="es")) == "es"
    assert page_language(client.get("/")) == "en"  # nothing leaks into the next request


def test_signed_in_choice_is_saved_and_follows_the_person(client, tenant, owner):
    customer = CustomerFactory(tenant=tenant, email=owner.email, user=owner)
    client.force_login(owner)
    client.post(reverse("set_language"), {"language": "de", "next": "/"})
    owner.refresh_from_db()
    customer.refresh_from_db()
    assert owner.language == "de" and customer.language == "de"
    # Another browser (no cookie): the saved language beats the tenant's default and Accept-Language.
    tenant.language = "es"
    tenant.save()
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME)
    assert page_language(client.get(f"/{tenant.slug}/", HTTP_ACCEPT_LANGUAGE="es")) == "de"
    assert page_language(client.get(reverse("dashboard:tenant", args=[tenant.slug]))) == "de"


def test_dashboard_follows_the_member_not_the_tenant_default(client, tenant, owner):
    tenant.language = "es"
    tenant.save()
    client.force_login(owner)
    url = reverse("dashboard:tenant", args=[tenant.slug])
    assert page_language(client.get(url)) == "en"
    assert page_language(client.get(url, HTTP_ACCEPT_LANGUAGE="de")) == "de"


def test_times_read_in_the_active_language_with_their_zone():
    from datetime import UTC, datetime

    from core.times import format_zoned

    moment = datetime(2026, 12, 7, 13, 5, tzinfo=UTC)
    expected = {"en": "Dec 7, 14:05 CET", "de": "7. Dez., 14:05 CET", "es": "7 dic, 14:05 CET"}
    for language, text in expected.items():
        with translation.override(language):
            assert format_zoned(moment, "Europe/Berlin") == text


def test_default_language_page_for_managers(client, tenant, manager, staff):
    url = reverse("dashboard:language", args=[tenant.slug])
    client.force_login(manager)
    assert client.get(url).status_code == 200
    response = client.post(url, {"language": "de"})
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.language == "de"
    entry = AuditEntry.objects.get(tenant=tenant, action=AuditAction.LANGUAGE_CHANGED)
    assert entry.details == {"from": "en", "to": "de"}
    bad = client.post(url, {"language": "tlh"})
    assert bad.status_code == 422 and 'class="field-error"' in bad.content.decode()
    tenant.refresh_from_db()
    assert tenant.language == "de"
    client.force_login(staff)
    assert client.post(url, {"language": "en"}).status_code == 403
    tenant.refresh_from_db()
    assert tenant.language == "de"


def test_default_language_page_is_not_for_other_tenants(client, tenant, outsider):
    client.force_login(outsider)
    assert (
        client.post(reverse("dashboard:language", args=[tenant.slug]), {"language": "de"}).status_code == 404
    )
    tenant.refresh_from_db()
    assert tenant.language == "en"


def test_customer_language_remembered_from_the_active_language(tenant):
    with translation.override("es"):
        created = customer_upsert(tenant=tenant, email="ana@example.test", name="Ana")
    assert created.language == "es"
    # Someone merely typing the address in German does not change the customer's record...
    with translation.override("de"):
        customer_upsert(tenant=tenant, email="ana@example.test")
    assert Customer.objects.get(pk=created.pk).language == "es"
    # ...the proven customer does.
    with translation.override("de"):
        customer_upsert(tenant=tenant, email="ana@example.test", verified=True)
    assert Customer.objects.get(pk=created.pk).language == "de"


@pytest.fixture
def no_dispatch(monkeypatch):
    monkeypatch.setattr(notification_services, "dispatch_soon", lambda ids: None)


def test_messages_are_written_and_rendered_in_the_recipients_language(tenant, no_dispatch, mailoutbox):
    german = CustomerFactory(tenant=tenant, language="de")
    unknown = CustomerFactory(tenant=tenant, language="")
    tenant.language = "es"
    tenant.save()

    def context():
        return {"subject": translation.get_language(), "body": "x", "action_url": "/q/1/"}

    with translation.override("en"), transaction.atomic():
        notify(tenant=tenant, event_type=TICKET_CALLED, context=context, customer=german)
        notify(tenant=tenant, event_type=TICKET_CALLED, context=context, customer=unknown)
    by_customer = {m.customer_id: m for m in OutboxMessage.objects.filter(channel="email")}
    assert (by_customer[german.pk].language, by_customer[german.pk].payload["subject"]) == ("de", "de")
    assert (by_customer[unknown.pk].language, by_customer[unknown.pk].payload["subject"]) == ("es", "es")
    with translation.override("en"):
        deliver(by_customer[german.pk])
    html = mailoutbox[-1].alternatives[0][0]
    assert '<html lang="de">' in html
    assert translation.get_language() == "en"  # the override ended with the delivery


def test_staff_messages_use_each_members_saved_language(tenant, owner, no_dispatch):
    owner.language = "de"
    owner.save()
    colleague = MembershipFactory(tenant=tenant, role=Role.STAFF).user
    with transaction.atomic():
        notify(
            tenant=tenant,
            event_type="ticket.submitted",
            context=lambda: {"subject": translation.get_language()},
        )
    languages = {m.user_id: (m.language, m.payload["subject"]) for m in OutboxMessage.objects.all()}
    assert languages == {owner.pk: ("de", "de"), colleague.pk: ("en", "en")}


def test_render_email_uses_the_active_language_for_its_frame(tenant, no_dispatch):
    customer = CustomerFactory(tenant=tenant, language="es")
    with transaction.atomic():
        (message,) = notify(
            tenant=tenant,
            event_type=TICKET_CALLED,
            context={"subject": "S", "body": "B", "action_url": "/x/"},
            customer=customer,
        )
    with translation.override("es"):
        assert '<html lang="es">' in render_email(message).alternatives[0][0]


def test_a_german_customer_gets_a_german_email_with_german_money(tenant, no_dispatch, mailoutbox):
    from core.money import format_money

    german = CustomerFactory(tenant=tenant, language="de")
    english = CustomerFactory(tenant=tenant, language="en")

    def context():
        total = format_money(123450, "EUR")
        return {"subject": total, "body": total, "action_url": "/q/1/"}

    with translation.override("es"), transaction.atomic():  # the page that caused it spoke Spanish
        for customer in (german, english):
            notify(tenant=tenant, event_type=TICKET_CALLED, context=context, customer=customer)
    for message in OutboxMessage.objects.filter(channel="email").order_by("customer_id"):
        deliver(message)
    to_german = next(m for m in mailoutbox if m.to == [german.email])
    to_english = next(m for m in mailoutbox if m.to == [english.email])
    assert "1.234,50 €" in to_german.subject and "1.234,50\xa0€" in to_german.body  # subjects are one line
    assert "Diese E-Mails abbestellen" in to_german.body and "Öffnen" in to_german.body
    assert f"{tenant.name} über VirtualQ" in to_german.alternatives[0][0]
    assert "€1,234.50" in to_english.body and "Stop these emails" in to_english.body
