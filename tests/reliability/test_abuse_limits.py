"""Abuse limits on the real client address.

- The client address: X-Forwarded-For counts only from a configured trusted proxy, and then its right-most
  untrusted address; a made-up header from anyone else is ignored (it used to buy a fresh bucket per
  request), and people behind one trusted proxy keep buckets of their own.
- Public submissions (requests, help-desk tickets, customers' comments, waitlist joins) are limited per
  address and per email, with a clear 429 and nothing written once over the limit.
- Logins (allauth's form, field ``login``) are throttled per account and per address by django-axes, with
  a lockout page that says what to do, and an operator unlock (management command and admin).
- Password resets are limited per address and per account.
"""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse

from core.ratelimit import client_address
from queues.models import Ticket
from tests.factories import UserFactory
from tests.queues.factories import creator_queue
from tests.queues.test_public_pages import form_url, post_data, token_of
from tests.support.factories import support_queue
from tests.waitlists.factories import sold_out_event
from waitlists.models import WaitlistEntry

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-password"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.RATE_LIMIT_SUBMISSIONS = "3/600"
    settings.RATE_LIMIT_SUBMISSIONS_PER_EMAIL = "2/600"
    settings.TRUSTED_PROXIES = []
    cache.clear()
    yield
    cache.clear()


def address_of(remote: str, forwarded: str | None = None) -> str:
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **meta))


def test_the_client_address_believes_x_forwarded_for_only_from_a_trusted_proxy(settings):
    assert address_of("198.51.100.7", "1.2.3.4") == "198.51.100.7"  # nobody trusted: the header is noise
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8::/32"]
    assert address_of("198.51.100.7", "1.2.3.4") == "198.51.100.7"  # not from our proxy: ignored
    assert address_of("10.0.0.2", "203.0.113.9") == "203.0.113.9"
    # The client may put anything on the left; the right-most untrusted hop is what our proxy saw.
    assert address_of("10.0.0.2", "1.1.1.1, 6.6.6.6, 203.0.113.9, 10.0.0.5") == "203.0.113.9"
    assert address_of("2001:db8::1", "[2001:db8::9]:443, 2001:db8:0:0::7") == "2001:db8::1"
    assert address_of("10.0.0.2", "not-an-address, 203.0.113.9") == "203.0.113.9"
    assert address_of("10.0.0.2", "203.0.113.9, garbage") == "10.0.0.2"
    assert address_of("10.0.0.2", "") == "10.0.0.2"
    assert address_of("10.0.0.2", "203.0.113.9:5555") == "203.0.113.9"
    assert address_of("::ffff:198.51.100.7") == "198.51.100.7"


def submit_from(client, queue, *, remote, forwarded=None, email="fan@example.test"):
    page = client.get(form_url(queue))
    extra = {"REMOTE_ADDR": remote}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(
        form_url(queue),
        post_data(queue, "personal", submission_token=token_of(page), email=email),
        **extra,
    )


def test_a_made_up_x_forwarded_for_does_not_buy_a_fresh_bucket(client, tenant):
    queue = creator_queue(tenant)
    codes = [
        submit_from(
            client, queue, remote="198.51.100.7", forwarded=f"203.0.113.{n}", email=f"f{n}@x.test"
        ).status_code
        for n in range(5)
    ]
    assert codes == [302, 302, 302, 429, 429]
    assert Ticket.objects.count() == 3


def test_people_behind_a_trusted_proxy_keep_buckets_of_their_own(client, tenant, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    queue = creator_queue(tenant)
    for n in range(3):
        assert (
            submit_from(
                client, queue, remote="10.0.0.2", forwarded="203.0.113.1", email=f"a{n}@x.test"
            ).status_code
            == 302
        )
    refused = submit_from(client, queue, remote="10.0.0.2", forwarded="203.0.113.1", email="a9@x.test")
    assert refused.status_code == 429 and "Too many requests" in refused.content.decode()
    # Another person behind the same proxy is not in the first one's bucket.
    assert (
        submit_from(client, queue, remote="10.0.0.2", forwarded="203.0.113.2", email="b@x.test").status_code
        == 302
    )
    assert Ticket.objects.count() == 4


def test_submissions_are_limited_per_email_from_any_address(client, tenant):
    queue = creator_queue(tenant)
    codes = [
        submit_from(client, queue, remote=f"198.51.100.{n}", email="same@x.test").status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 429]
    assert Ticket.objects.count() == 2


def test_help_desk_filing_is_limited(client, tenant):
    queue = support_queue(tenant)
    url = reverse("support_public:submit", args=[tenant.slug, queue.slug])
    data = {"name": "Kai", "title": "Printer", "description": "It jams.", "priority": "normal"}
    data.update({"custom__category": "Other", "email": "kai@x.test"})
    codes = []
    for n in range(3):
        page = client.get(url).content.decode()
        token = re.search(r'name="submission_token" value="([^"]+)"', page).group(1)
        response = client.post(url, {**data, "submission_token": token}, REMOTE_ADDR=f"198.51.100.{n}")
        codes.append(response.status_code)
    assert codes == [302, 302, 429], codes


def test_waitlist_joins_are_limited_per_email(client, tenant):
    event, _orders = sold_out_event(tenant=tenant)
    url = reverse("waitlists_public:join", args=[tenant.slug, event.slug])
    tier = event.tiers.get()
    codes = [
        client.post(
            url,
            {"email": "wen@x.test", "tier": str(tier.id), "quantity": "1", "name": "Wen"},
            REMOTE_ADDR=f"198.51.100.{n}",
        ).status_code
        for n in range(3)
    ]
    assert codes[-1] == 429
    assert WaitlistEntry.objects.filter(event=event).count() <= 1


# --- logins and password resets ------------------------------------------------------------------------


def login(client, email, password, remote="198.51.100.7"):
    return client.post(reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=remote)


def verified_user(email):
    from allauth.account.models import EmailAddress

    user = UserFactory(email=email)
    user.set_password(PASSWORD)
    user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def test_logins_are_throttled_per_account_with_a_clear_message_and_an_operator_unlock(settings):
    settings.AXES_FAILURE_LIMIT = 3
    verified_user("ann@x.test")
    # The attempt that reaches the limit is answered with the lockout page already.
    codes = [login(Client(), "ann@x.test", "wrong", remote=f"198.51.100.{n}").status_code for n in range(3)]
    assert codes[:2] in ([200, 200], [400, 400]) and codes[2] == 429, codes
    # Locked: even the right password, from yet another address, is refused with a page that says why.
    locked = login(Client(), "ANN@x.test", PASSWORD, remote="198.51.100.99")
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Signing in is paused" in text and "Reset it" in text and "operator" in text
    assert AccessAttempt.objects.filter(username="ann@x.test").exists()
    call_command("axes_reset_username", "ann@x.test")
    client = Client()
    assert login(client, "ann@x.test", PASSWORD, remote="198.51.100.99").status_code == 302
    assert client.get(reverse("dashboard:home")).status_code in (200, 302)


def test_logins_are_throttled_per_address_across_accounts(settings):
    settings.AXES_FAILURE_LIMIT = 3
    verified_user("bob@x.test")
    for n in range(3):
        login(Client(), f"nobody{n}@x.test", "wrong", remote="198.51.100.8")
    assert login(Client(), "bob@x.test", PASSWORD, remote="198.51.100.8").status_code == 429
    # A made-up X-Forwarded-For from the same connection is the same address.
    blocked = Client().post(
        reverse("account_login"),
        {"login": "bob@x.test", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.8",
        HTTP_X_FORWARDED_FOR="203.0.113.77",
    )
    assert blocked.status_code == 429
    assert login(Client(), "bob@x.test", PASSWORD, remote="198.51.100.9").status_code == 302


def test_the_admin_unlocks_by_deleting_the_attempts(settings):
    settings.AXES_FAILURE_LIMIT = 2
    verified_user("cy@x.test")
    for _ in range(2):
        login(Client(), "cy@x.test", "wrong", remote="198.51.100.10")
    assert login(Client(), "cy@x.test", PASSWORD, remote="198.51.100.11").status_code == 429
    operator = Client()
    operator.force_login(UserFactory(is_staff=True, is_superuser=True))
    changelist = operator.get(reverse("admin:axes_accessattempt_changelist"))
    assert changelist.status_code == 200 and "cy@x.test" in changelist.content.decode()
    ids = list(AccessAttempt.objects.filter(username="cy@x.test").values_list("pk", flat=True))
    operator.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert not AccessAttempt.objects.filter(username="cy@x.test").exists()
    assert login(Client(), "cy@x.test", PASSWORD, remote="198.51.100.11").status_code == 302


def test_password_resets_are_limited_per_account_and_per_address(settings):
    settings.ACCOUNT_RATE_LIMITS = {"reset_password": "4/h/ip,2/h/key"}
    verified_user("dee@x.test")
    url = reverse("account_reset_password")
    per_account = [
        Client().post(url, {"email": "dee@x.test"}, REMOTE_ADDR=f"198.51.100.{20 + n}").status_code
        for n in range(3)
    ]
    assert per_account[:2] == [302, 302] and per_account[2] == 429
    assert len(mail.outbox) == 2
    per_address = [
        Client().post(url, {"email": f"who{n}@x.test"}, REMOTE_ADDR="198.51.100.60").status_code
        for n in range(5)
    ]
    assert per_address[-1] == 429


def reply(client, ticket, body, remote):
    return client.post(
        reverse("support:customer_ticket", args=[ticket.reference]), {"body": body}, REMOTE_ADDR=remote
    )


def test_help_desk_customer_replies_are_limited_per_customer_from_any_address(client, tenant):
    from queues.models import TicketComment
    from tests.support.factories import file_ticket

    ticket = file_ticket(support_queue(tenant), email="rea@x.test")
    codes = [reply(client, ticket, f"Still broken {n}", f"198.51.100.{n}").status_code for n in range(4)]
    assert codes == [302, 302, 429, 429], codes  # per email: 2 / 600 s, whatever the address
    refused = reply(client, ticket, "Once more", "198.51.100.50")
    assert refused.status_code == 429 and "Too many requests" in refused.content.decode()
    assert TicketComment.objects.filter(ticket=ticket, author_customer=ticket.customer).count() == 2


def test_help_desk_customer_replies_are_limited_per_address_across_tickets(client, tenant):
    from queues.models import TicketComment
    from tests.support.factories import file_ticket

    queue = support_queue(tenant)
    tickets = [file_ticket(queue, email=f"r{n}@x.test") for n in range(4)]
    codes = [reply(client, ticket, "Any news?", "198.51.100.7").status_code for ticket in tickets]
    assert codes == [302, 302, 302, 429], codes  # per address: 3 / 600 s, whoever's ticket
    assert TicketComment.objects.filter(ticket__in=tickets, author_customer__isnull=False).count() == 3
    # Another address is not in that bucket.
    assert reply(client, tickets[3], "Any news?", "198.51.100.8").status_code == 302
