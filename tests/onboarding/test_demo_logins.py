"""``make run``'s printed demo logins work through allauth's login form (verified addresses)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_every_printed_demo_login_passes_the_login_form(settings):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    emails = [line.split()[0] for line in out.getvalue().splitlines() if "@demo.virtualq.test" in line]
    assert len(emails) >= 8
    for email in emails:
        client = Client()
        response = client.post(reverse("account_login"), {"login": email, "password": "virtualq-demo"})
        assert response.status_code == 302, email
        assert response["Location"] == reverse("dashboard:home"), (email, response["Location"])
