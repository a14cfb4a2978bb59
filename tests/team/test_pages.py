"""Team pages: what each role sees and may do, the invitation link, and tenancy on every page."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from team import services
from team.models import AuditEntry, Invitation, InvitationStatus
from tenants.models import Membership, Role
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_owner_invites_from_the_team_page_and_reads_the_audit_log(owner_client, tenant, owner):
    url = reverse("team:members", args=[tenant.slug])
    page = owner_client.get(url)
    assert page.status_code == 200 and owner.email in page.content.decode()
    bad = owner_client.post(url, {"invite-email": "nope", "invite-role": "staff"})
    assert bad.status_code == 422 and "Enter a valid email address" in bad.content.decode()
    response = owner_client.post(url, {"invite-email": "kim@example.test", "invite-role": "staff"})
    assert response.status_code == 302
    assert Invitation.objects.get(tenant=tenant).email == "kim@example.test"
    again = owner_client.post(url, {"invite-email": "kim@example.test", "invite-role": "staff"})
    assert again.status_code == 422 and "pending invitation" in again.content.decode()
    listing = owner_client.get(url).content.decode()
    assert "kim@example.test" in listing and "Resend" in listing
    audit = owner_client.get(reverse("team:audit", args=[tenant.slug])).content.decode()
    assert "Invitation sent" in audit and owner.email in audit and "kim@example.test" in audit


def test_staff_see_the_team_but_cannot_manage_it(client, tenant, owner, staff):
    client.force_login(staff)
    page = client.get(reverse("team:members", args=[tenant.slug])).content.decode()
    assert "Leave this team" in page and "Send invitation" not in page
    post = client.post(
        reverse("team:members", args=[tenant.slug]),
        {"invite-email": "a@example.test", "invite-role": "staff"},
    )
    assert post.status_code == 403 and not Invitation.objects.exists()
    owner_membership = Membership.objects.get(tenant=tenant, user=owner)
    assert (
        client.post(reverse("team:member_remove", args=[tenant.slug, owner_membership.pk])).status_code == 403
    )
    assert client.get(reverse("team:audit", args=[tenant.slug])).status_code == 403


def test_an_outsider_gets_404_on_every_team_page(outsider_client, tenant, owner, other_tenant):
    invitation, _token = services.invitation_send(
        tenant=tenant, actor=owner, email="kim@example.test", role="staff"
    )
    member = Membership.objects.get(tenant=tenant, user=owner)
    slug = tenant.slug
    assert outsider_client.get(reverse("team:members", args=[slug])).status_code == 404
    assert outsider_client.get(reverse("team:audit", args=[slug])).status_code == 404
    for url in [
        reverse("team:member_role", args=[slug, member.pk]),
        reverse("team:member_remove", args=[slug, member.pk]),
        reverse("team:invitation_action", args=[slug, invitation.pk, "revoke"]),
    ]:
        assert outsider_client.post(url, {f"member-{member.pk}-role": "staff"}).status_code == 404, url
    # Another tenant's ids under one's own tenant are 404 too.
    own_slug = other_tenant.slug
    assert (
        outsider_client.post(
            reverse("team:invitation_action", args=[own_slug, invitation.pk, "revoke"])
        ).status_code
        == 404
    )
    assert outsider_client.post(reverse("team:member_remove", args=[own_slug, member.pk])).status_code == 404
    assert Invitation.objects.get(pk=invitation.pk).status == InvitationStatus.PENDING
    assert Membership.objects.filter(pk=member.pk).exists()


def test_last_owner_gets_a_message_not_an_error(owner_client, tenant, owner):
    mine = Membership.objects.get(tenant=tenant, user=owner)
    response = owner_client.post(
        reverse("team:member_role", args=[tenant.slug, mine.pk]),
        {f"member-{mine.pk}-role": "staff"},
        follow=True,
    )
    assert response.status_code == 200 and "last owner" in response.content.decode()
    assert Membership.objects.get(pk=mine.pk).role == Role.OWNER
    leave = owner_client.post(reverse("team:member_remove", args=[tenant.slug, mine.pk]), follow=True)
    assert "last owner" in leave.content.decode() and Membership.objects.filter(pk=mine.pk).exists()


def test_owner_changes_a_role_and_removes_a_member(owner_client, tenant, staff):
    member = Membership.objects.get(tenant=tenant, user=staff)
    owner_client.post(
        reverse("team:member_role", args=[tenant.slug, member.pk]), {f"member-{member.pk}-role": "manager"}
    )
    assert Membership.objects.get(pk=member.pk).role == Role.MANAGER
    owner_client.post(reverse("team:member_remove", args=[tenant.slug, member.pk]))
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert AuditEntry.objects.filter(tenant=tenant).count() == 2


def test_accept_by_signing_up_then_only_that_tenant_is_visible(
    client, tenant, owner, other_tenant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _invitation, token = services.invitation_send(
            tenant=tenant, actor=owner, email="kim@example.test", role="staff"
        )
    assert services.invitation_url(token) in mail.outbox[0].body
    url = reverse("team:accept", args=[token])
    page = client.get(url)
    assert page.status_code == 200 and "Sign up to accept" in page.content.decode()
    to_signup = client.post(url, {"action": "signup"})
    assert to_signup.status_code == 302 and to_signup["Location"].startswith(reverse("account_signup"))
    form = client.get(to_signup["Location"]).content.decode()
    assert 'value="kim@example.test"' in form
    sent_before = len(mail.outbox)
    done = client.post(
        reverse("account_signup"),
        {"email": "kim@example.test", "password1": "a long pass phrase 1", "name": "Kim", "next": url},
    )
    assert done.status_code == 302, done.content.decode()[:2000]
    # The token proved the address: no verification email, signed in, and already a member.
    assert len(mail.outbox) == sent_before
    kim = Membership.objects.get(tenant=tenant, user__email="kim@example.test")
    assert kim.role == Role.STAFF
    assert EmailAddress.objects.get(user=kim.user).verified
    assert client.get(reverse("dashboard:tenant", args=[tenant.slug])).status_code == 200
    assert client.get(reverse("dashboard:tenant", args=[other_tenant.slug])).status_code == 404
    # The link again: the new member goes to the team; anyone else learns it was used.
    again = client.get(url)
    assert again.status_code == 302 and again["Location"] == reverse("dashboard:tenant", args=[tenant.slug])
    client.logout()
    used = client.get(url)
    assert used.status_code == 404 and "already used" in used.content.decode()


def test_invited_sign_up_works_with_public_sign_up_closed(client, tenant, owner, settings):
    settings.ACCOUNT_SIGNUPS_OPEN = False
    _invitation, token = services.invitation_send(
        tenant=tenant, actor=owner, email="kim@example.test", role="staff"
    )
    assert "closed" in client.get(reverse("account_signup")).content.decode().lower()
    url = reverse("team:accept", args=[token])
    client.post(url, {"action": "signup"})
    done = client.post(
        reverse("account_signup"), {"email": "kim@example.test", "password1": "a long pass phrase 1"}
    )
    assert done.status_code == 302
    assert Membership.objects.filter(tenant=tenant, user__email="kim@example.test").exists()


def test_accept_when_signed_in_with_the_invited_email(client, tenant, owner):
    invited = MembershipFactory(role=Role.OWNER).user  # has an account elsewhere
    _invitation, token = services.invitation_send(
        tenant=tenant, actor=owner, email=invited.email, role="manager"
    )
    url = reverse("team:accept", args=[token])
    anonymous = client.get(url).content.decode()
    assert "Log in to accept" in anonymous
    client.force_login(invited)
    assert "Accept and join" in client.get(url).content.decode()
    assert client.post(url, {"action": "accept"}).status_code == 302
    assert Membership.objects.get(tenant=tenant, user=invited).role == Role.MANAGER


def test_accept_page_for_another_signed_in_account_says_so(client, tenant, owner, staff):
    _invitation, token = services.invitation_send(
        tenant=tenant, actor=owner, email="kim@example.test", role="staff"
    )
    client.force_login(owner)
    url = reverse("team:accept", args=[token])
    assert "this invitation is for kim@example.test" in client.get(url).content.decode()
    response = client.post(url, follow=True)
    assert "This invitation is for kim@example.test" in response.content.decode()
    assert Invitation.objects.get(tenant=tenant).status == InvitationStatus.PENDING


def test_bad_and_expired_links_are_clear_404s(client, tenant, owner):
    assert "not valid" in client.get(reverse("team:accept", args=["made-up"])).content.decode()
    _invitation, token = services.invitation_send(
        tenant=tenant,
        actor=owner,
        email="kim@example.test",
        role="staff",
        now=timezone.now() - timedelta(days=8),
    )
    expired = client.get(reverse("team:accept", args=[token]))
    assert expired.status_code == 404 and "expired" in expired.content.decode()
