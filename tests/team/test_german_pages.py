"""The team's, the branding's and the API keys' pages in German carry none of their apps' English texts:
each page is rendered in German (language cookie) and its visible text searched for every English msgid
of the three catalogs whose German differs (placeholders left out). The invitation email is written in
the team's language, and the audit log shows its details (roles, languages, what changed) in German."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import translation

from api.services import api_key_create, api_key_revoke
from branding.services import tenant_branding_update
from team import services
from tenants.models import Membership, Role
from tenants.services import tenant_language_set
from tests.factories import MembershipFactory
from tests.german_text import assert_german, german
from tests.support.factories import support_queue

pytestmark = pytest.mark.django_db
ROOT = Path(settings.BASE_DIR)
PLACEHOLDER = re.compile(r"%\(\w+\)\w|%%|<[^>]+>|&\w+;")
APPS = ("team", "branding", "api")


def english_texts() -> set[str]:
    """English msgids (whole pieces between placeholders, two words or more) that the German does not keep."""
    texts = set()
    for app in APPS:
        with open(ROOT / app / "locale" / "de" / "LC_MESSAGES" / "django.po", "rb") as handle:
            catalog = read_po(handle, locale="de")
        for message in catalog:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not ids[0] or ids[0] in strings:
                continue
            for msgid in ids:
                for piece in PLACEHOLDER.split(msgid):
                    piece = piece.strip(" .:;,()—·×")
                    # A piece the German keeps (a header name, a code) is not left-over English.
                    kept = any(piece in string for string in strings)
                    if len(piece.split()) >= 2 and re.search(r"[a-z]{3}", piece) and not kept:
                        texts.add(piece)
    return texts


def test_the_owner_pages_of_team_branding_and_api_keys_speak_german(client, tenant, owner):
    english = english_texts()
    it = support_queue(tenant, slug="it", name="IT").support
    manager = MembershipFactory(tenant=tenant, role=Role.MANAGER)
    services.invitation_send(tenant=tenant, actor=owner, email="kim@example.test", role="agent", desks=[it])
    services.member_change_role(tenant=tenant, actor=owner, membership=manager, role="agent", desks=[it.pk])
    tenant_branding_update(tenant=tenant, actor=owner, accent_colour="#1c4ed8", intro="Hallo")
    tenant_language_set(tenant=tenant, actor=owner, language="es")
    key, _secret = api_key_create(tenant=tenant, actor=owner, name="Kasse", scopes=["read"])
    api_key_revoke(tenant=tenant, actor=owner, api_key=key)
    api_key_create(tenant=tenant, actor=owner, name="Kiosk", scopes=["read", "write"])
    client.force_login(owner)
    pages = {
        "team:members": "Ausstehende Einladungen",
        "team:audit": "Änderungsprotokoll",
        "branding:edit": "Branding Ihrer öffentlichen Seiten",
        "apikeys:keys": "API-Schlüssel",
    }
    for name, heading in pages.items():
        url = reverse(name, args=[tenant.slug])
        text = german(client, url)
        assert heading in text, url
        assert_german(text, url, english)
    audit = german(client, reverse("team:audit", args=[tenant.slug]))
    # Stored codes and words, shown in the reader's language.
    assert "Rolle: Helpdesk-Agent" in audit and "Vorher: Englisch; Nachher: Spanisch" in audit
    assert "Vorher: Manager; Nachher: Helpdesk-Agent; Helpdesks: IT" in audit
    assert "Geändert: Akzentfarbe, Vorstellung" in audit
    members = german(client, reverse("team:members", args=[tenant.slug]))
    assert "Helpdesk-Agent für IT" in members
    keys = german(client, reverse("apikeys:keys", args=[tenant.slug]))
    assert "Widerrufen am" in keys and "Kiosk widerrufen" in keys  # the live key's button label


def test_the_invitation_page_and_email_speak_german(
    client, tenant, owner, django_capture_on_commit_callbacks
):
    english = english_texts()
    tenant_language_set(tenant=tenant, actor=owner, language="de")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        invitation, _token = services.invitation_send(
            tenant=tenant, actor=owner, email="kim@example.test", role="manager"
        )
    # The invited person has no account: the email speaks the team's language, whatever is active here.
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        _invitation, token = services.invitation_resend(tenant=tenant, actor=owner, invitation=invitation)
    url = reverse("team:accept", args=[token])
    text = german(client, url)
    assert f"{tenant.name} beitreten" in text and "Registrieren und annehmen" in text
    assert_german(text, url, english)
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert "hat Sie eingeladen" in message.body and "mit der Rolle „Manager“" in message.body
        assert "Tage lang und nur einmal" in message.body
        assert "eingeladen" in message.subject
        assert not [piece for piece in english if piece in message.body + message.subject]


def test_an_invited_person_with_an_account_is_written_to_in_their_own_language(
    tenant, owner, django_capture_on_commit_callbacks
):
    person = MembershipFactory(role=Role.STAFF).user  # has an account elsewhere
    person.language = "es"
    person.save(update_fields=["language"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_send(tenant=tenant, actor=owner, email=person.email, role="staff")
    assert "te ha invitado a unirte" in mail.outbox[0].body
    assert not Membership.objects.filter(tenant=tenant, user=person).exists()
