"""Sign-up, email verification, login, change of email (allauth, as configured for VirtualQ)."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from tenants.models import User
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-pass-4711"


def _link(message, marker: str) -> str:
    match = re.search(r"https?://[^\s]+" + re.escape(marker) + r"[^\s]*", message.body)
    assert match, message.body
    return match.group(0)[match.group(0).index("/accounts/") :]


def _sign_up(client, email="new@person.test", name="New Person"):
    return client.post(reverse("account_signup"), {"email": email, "password1": PASSWORD, "name": name})


def test_sign_up_needs_the_emailed_link_before_any_dashboard(client):
    response = _sign_up(client, email="New@Person.test")
    assert response.status_code == 302 and response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="new@person.test")
    assert user.name == "New Person"
    assert not EmailAddress.objects.get(user=user).verified
    # Not logged in yet, and logging in only re-sends the link.
    assert client.get(reverse("dashboard:home")).status_code == 302
    response = client.post(reverse("account_login"), {"login": "new@person.test", "password": PASSWORD})
    assert response["Location"] == reverse("account_email_verification_sent")
    assert client.get(reverse("dashboard:home"))["Location"].startswith(reverse("account_login"))
    assert len(mail.outbox) == 2 and mail.outbox[0].to == ["new@person.test"]
    link = _link(mail.outbox[-1], "/accounts/confirm-email/")
    # Opening the link changes nothing (mail scanners follow links); the page's POST confirms.
    assert client.get(link).status_code == 200
    assert not EmailAddress.objects.get(user=user).verified
    response = client.post(link)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    assert client.get(reverse("dashboard:home")).status_code == 200


def test_a_wrong_confirmation_key_is_a_clear_page_and_verifies_nothing(client):
    _sign_up(client)
    response = client.post(reverse("account_confirm_email", args=["not-a-real-key"]))
    assert response.status_code == 404 or b"expired or is invalid" in response.content
    assert not EmailAddress.objects.filter(verified=True, email="new@person.test").exists()


def test_sign_up_with_a_taken_email_says_so_without_a_second_user(client):
    factories.UserFactory(email="taken@person.test")
    response = _sign_up(client, email="TAKEN@person.test")
    # With enumeration prevention allauth answers as for a new address and mails the owner instead.
    assert User.objects.filter(email__iexact="taken@person.test").count() == 1
    assert response.status_code in (200, 302)


def test_bad_sign_up_input_gets_field_errors_and_keeps_what_was_typed(client):
    response = client.post(
        reverse("account_signup"), {"email": "not-an-email", "password1": "1", "name": "Ann"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="field-error"' in page and 'value="Ann"' in page
    assert not User.objects.exists()


def test_demo_style_users_log_in_with_the_form(client):
    user = factories.UserFactory()
    response = client.post(
        reverse("account_login"), {"login": user.email.upper(), "password": "pw-for-tests"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:home")


def test_an_unverified_user_cannot_log_in(client):
    user = factories.UserFactory(verified=False)
    response = client.post(reverse("account_login"), {"login": user.email, "password": "pw-for-tests"})
    assert response["Location"] == reverse("account_email_verification_sent")
    assert client.get(reverse("dashboard:home")).status_code == 302


def test_change_of_email_takes_effect_only_after_the_new_address_is_verified(client):
    user = factories.UserFactory(email="old@person.test")
    client.force_login(user)
    response = client.post(reverse("account_email"), {"action_add": "", "email": "fresh@person.test"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == "old@person.test"
    link = _link(mail.outbox[-1], "/accounts/confirm-email/")
    assert mail.outbox[-1].to == ["fresh@person.test"]
    client.post(link)
    user.refresh_from_db()
    assert user.email == "fresh@person.test"
    assert list(EmailAddress.objects.filter(user=user).values_list("email", flat=True)) == [
        "fresh@person.test"
    ]


def test_signups_can_be_closed(client, settings):
    settings.ACCOUNT_SIGNUPS_OPEN = False
    response = _sign_up(client)
    assert response.status_code == 200 and b"closed" in response.content.lower()
    assert not User.objects.exists()
