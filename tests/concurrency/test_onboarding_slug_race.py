"""Two people signing up for one address at the same moment: both pass the form's availability check,
the database's unique index lets one win, the other gets a clear message and nothing half-made."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from onboarding import forms as onboarding_forms
from tenants.models import Account, Membership, Tenant
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_sign_ups_racing_for_one_slug(monkeypatch, settings):
    settings.ACCOUNT_RATE_LIMITS = False
    people = [factories.UserFactory(email=f"racer{n}@person.test") for n in range(2)]
    both_checked = threading.Barrier(2, timeout=10)
    real_check = onboarding_forms.slug_check

    def check_then_wait(value):
        # Both forms see the address free before either inserts: the race the unique index must decide.
        answer = real_check(value)
        both_checked.wait()
        return answer

    monkeypatch.setattr(onboarding_forms, "slug_check", check_then_wait)
    results = {}

    def sign_up(user):
        try:
            client = Client()
            client.force_login(user)
            response = client.post(
                reverse("onboarding:start"),
                {"name": f"Space of {user.email}", "slug": "one-address", "time_zone": "UTC",
                 "currency": "USD", "language": "en"},
            )  # fmt: skip
            results[user.email] = (response.status_code, response.content.decode())
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_up, args=(user,)) for user in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(results) == 2
    codes = sorted(code for code, _page in results.values())
    assert codes == [200, 302]
    loser_page = next(page for code, page in results.values() if code == 200)
    assert "Someone took “one-address” a moment ago; choose another address." in loser_page
    tenant = Tenant.objects.get(slug="one-address")
    winner = Membership.objects.get(tenant=tenant).user
    assert winner in people
    # The loser has nothing: no second account, no membership anywhere.
    assert Account.objects.count() == 1 and Membership.objects.count() == 1
