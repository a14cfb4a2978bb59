from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from tenants.models import Membership, Tenant

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_every_printed_login_works(monkeypatch):
    monkeypatch.setenv("WEB_PORT", "8123")
    out = StringIO()
    call_command("seed_demo", stdout=out)
    counts = (Tenant.objects.count(), Membership.objects.count())
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert (Tenant.objects.count(), Membership.objects.count()) == counts
    text = out.getvalue()
    assert "http://127.0.0.1:8123/" in text and "password for all: virtualq-demo" in text
    emails = [line.split()[0] for line in text.splitlines() if "@demo.virtualq.test" in line]
    assert {"creator@demo.virtualq.test", "manager@demo.virtualq.test", "admin@demo.virtualq.test"} <= set(
        emails
    )
    for email in emails:
        assert authenticate(username=email, password="virtualq-demo") is not None, email
