"""Create your space, the setup wizard, sharing and security in German: every word onboarding owns is
translated, and so are the address check's answers and the form errors."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from tests import factories
from tests.german_text import english_left, visible_text

pytestmark = pytest.mark.django_db
PARTS = ("onboarding", "tenants", "core")


def _german(client, user):
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    return client


def _check(response, *, allow=()):
    assert response.status_code == 200
    content = response.content.decode()
    assert '<html lang="de">' in content
    # Time zone names (America/New_York) are identifiers, not words.
    words = re.sub(r'<select name="time_zone".*?</select>', "", content, flags=re.S)
    assert english_left(words, parts=PARTS, allow=allow) == [], visible_text(words)[-1500:]
    return content


def test_create_your_space_speaks_german(client):
    _german(client, factories.UserFactory())
    page = _check(client.get(reverse("onboarding:start")))
    assert "Meinen Bereich erstellen" in page and "Zeitzone" in page and "EUR – Euro" in page
    refused = client.post(
        reverse("onboarding:start"),
        {"name": "Mia", "slug": "a", "time_zone": "UTC", "currency": "EUR", "language": "de"},
    ).content.decode()
    assert "Verwenden Sie 3 bis 60 Zeichen." in refused
    answer = client.get(reverse("onboarding:address_check"), {"slug": "frei-hier"}).json()
    assert answer["message"] == "„frei-hier“ ist frei."


def test_setup_share_and_security_speak_german(client, tenant, owner):
    _german(client, owner)
    data = [tenant.name, tenant.slug, owner.email]
    setup = _check(client.get(reverse("onboarding:setup", args=[tenant.slug])), allow=data)
    assert f"Was soll {tenant.name} anbieten?" in setup
    for kind in ("creator", "service", "event", "help-desk"):
        form = _check(client.get(reverse("onboarding:setup_kind", args=[tenant.slug, kind])), allow=data)
        assert "Eröffnen" in form, kind
    service = client.get(reverse("onboarding:setup_kind", args=[tenant.slug, "service"])).content.decode()
    assert 'value="Schalter"' in service  # the name offered follows the page's language
    opened = client.post(
        reverse("onboarding:setup_kind", args=[tenant.slug, "help-desk"]),
        {"name": "Hilfe", "slug": "hilfe", "turnaround_hours": "8"},
    )
    assert opened.status_code == 302
    share = _check(client.get(opened["Location"]), allow=[*data, "Hilfe", "/help/hilfe/"])  # its address
    assert "Hilfe ist online" in share and "Ein Helpdesk auf Ihrer öffentlichen Seite." in share
    security = _check(client.get(reverse("onboarding:security", args=[tenant.slug])), allow=data)
    assert "Zwei-Faktor-Authentifizierung für alle Mitglieder verlangen" in security
    refused = client.post(reverse("onboarding:security", args=[tenant.slug]), {"require_two_factor": "on"})
    assert (
        "Richten Sie zuerst für sich selbst die Zwei-Faktor-Authentifizierung ein" in refused.content.decode()
    )
