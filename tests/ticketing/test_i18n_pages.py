"""Ticketing, waiting room, waitlists, payments and privacy pages in German and Spanish: the visitor's
language (the language cookie) gets translated pages, messages and live texts, English stays English."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from tests.ticketing.factories import buy, make_event
from tests.waitingroom.factories import join as join_room
from tests.waitingroom.factories import make_room
from tests.waitlists.factories import sold_out_event
from ticketing import events as live_events
from ticketing.services import ticket_check_in

pytestmark = pytest.mark.django_db


@contextmanager
def speaking(client, language: str):
    """Browse as a visitor who picked ``language`` (the language cookie the switcher sets)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with translation.override(language):
        yield client


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", response.content.decode())


def public(name, tenant, **kwargs):
    return reverse(name, kwargs={"tenant_slug": tenant.slug, **kwargs})


def test_event_page_in_german_and_spanish(client, tenant):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 10),))
    url = public("ticketing_public:event", tenant, event_slug=event.slug)
    with speaking(client, "de"):
        body = text(client.get(url))
    assert "Weiter zur Kasse" in body and "Verfügbarkeit" in body and "noch 10" in body
    assert "Continue to checkout" not in body and "10 left" not in body
    assert "Ihre Tickets werden während des Bezahlens 10 Minuten lang reserviert." in body
    with speaking(client, "es"):
        body = text(client.get(url))
    assert "Continuar al pago" in body and "Disponibilidad" in body and "quedan 10" in body
    with speaking(client, "en"):
        body = text(client.get(url))
    assert "Continue to checkout" in body and "10 left" in body


def test_checkout_and_order_pages_in_german(client, tenant):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 10),))
    general = event.tiers.get()
    with speaking(client, "de"):
        start = client.post(
            public("ticketing_public:checkout_start", tenant, event_slug=event.slug),
            {f"tier_{general.id}": "2"},
        )
        assert start.status_code == 302
        checkout = text(client.get(start["Location"]))
        assert "Kasse" in checkout and "Ihre Angaben" in checkout and "Weiter zur Zahlung" in checkout
        assert "Your details" not in checkout
        # A refused field answers in German too.
        bad = client.post(start["Location"], {"step": "details", "name": "Ann", "email": "not-an-email"})
        assert bad.status_code == 422 and "Geben Sie eine gültige E-Mail-Adresse ein." in bad.content.decode()
    order = buy(tenant=tenant, event=event, quantities={general.id: 1})
    with speaking(client, "de"):
        body = text(client.get(public("ticketing_public:order", tenant, token=order.access_token)))
        receipt = text(client.get(public("ticketing_public:order_receipt", tenant, token=order.access_token)))
    assert "Sie sind dabei!" in body and "Zwischensumme" in body and "Beleg zum Drucken" in body
    assert "Gültig" in body and "You're going" not in body
    assert "Rechnungsempfänger" in receipt and "Einzelpreis" in receipt


def test_dashboard_event_and_check_in_in_german(owner_client, tenant):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 10),))
    order = buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 1})
    with speaking(owner_client, "de"):
        body = text(owner_client.get(reverse("ticketing:event", args=[tenant.slug, event.id])))
        assert "Verkaufsübersicht" in body and "Veranstaltung absagen" in body and "Sales summary" not in body
        ticket = order.tickets.get()
        answer = ticket_check_in(tenant=tenant, actor=None, event=event, code=ticket.code)
        assert answer.message == "Gültig – eine Person einlassen."


def test_live_availability_payload_in_every_language(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 3),))
    tier = event.tiers.get()
    payload = live_events.availability_payload(event.id)
    key = f"tier-{tier.id}-available"
    assert payload["fields"][key] == "3 left"
    assert payload["fields_by_language"]["de"][key] == "noch 3"
    assert payload["fields_by_language"]["es"][key] == "quedan 3"
    assert payload["fields_by_language"]["de"]["event-status"] == "Im Verkauf"


def test_waiting_room_pages_in_german(client, tenant):
    event, _room = make_room(tenant=tenant)
    with speaking(client, "de"):
        room = text(client.get(public("waitingroom_public:room", tenant, event_slug=event.slug)))
        assert "So funktioniert der Warteraum" in room and "Link zum Anstellen per E-Mail senden" in room
        assert "How the waiting room works" not in room
        entry = join_room(tenant, event)
        page = text(client.get(public("waitingroom_public:entry", tenant, token=entry.token)))
        assert "Ihre Position" in page and "Personen vor Ihnen" in page and "Wartet" in page
        assert "?lang=de" in page  # the live socket answers in the page's language
        status = client.get(public("waitingroom_public:status", tenant, token=entry.token)).json()
        assert status["fields"]["status"] == "Wartet"


def test_waitlist_and_privacy_pages_in_spanish(client, tenant):
    event, _orders = sold_out_event(tenant=tenant)
    with speaking(client, "es"):
        join = text(client.get(public("waitlists_public:join", tenant, event_slug=event.slug)))
        assert "Apuntarse a la lista de espera" in join and "Cómo funciona" in join
        ask = text(client.get(public("privacy_public:ask", tenant)))
        assert "Tu dirección de correo" in ask and "Envíame el enlace" in ask


def test_payment_settings_in_german(owner_client, tenant):
    with speaking(owner_client, "de"):
        body = text(owner_client.get(reverse("payments:settings", args=[tenant.slug])))
    assert "Zahlungseinstellungen speichern" in body and "Geheimer Stripe-Schlüssel" in body
