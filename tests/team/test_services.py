"""Invitations (single use, expiring, bound to the email), roles, removal, the last-owner rule, audit."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from support.models import SupportAgent
from team import services
from team.models import AuditAction, AuditEntry, Invitation, InvitationStatus
from tenants.models import Membership, Role
from tests.factories import MembershipFactory, UserFactory
from tests.support.factories import support_queue

pytestmark = pytest.mark.django_db


def _invite(tenant, owner, email="new@example.test", role="staff", **kwargs):
    return services.invitation_send(tenant=tenant, actor=owner, email=email, role=role, **kwargs)


def test_invitation_emails_a_link_and_stores_only_the_token_hash(
    tenant, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = _invite(tenant, owner, email="New@Example.test")
    assert invitation.email == "new@example.test"
    assert invitation.token_hash == services.token_hash(token) and token not in invitation.token_hash
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.test"]
    assert services.invitation_url(token) in mail.outbox[0].body
    entry = AuditEntry.objects.get(tenant=tenant)
    assert (entry.action, entry.actor, entry.target_label) == (
        AuditAction.INVITATION_SENT,
        owner,
        "new@example.test",
    )


def test_accepting_makes_the_member_and_the_token_is_single_use(tenant, owner):
    _invitation, token = _invite(tenant, owner, role="manager")
    user = UserFactory(email="new@example.test")
    membership = services.invitation_accept(token=token, user=user)
    assert membership.role == Role.MANAGER and membership.user == user
    with pytest.raises(NotFound, match="already used"):
        services.invitation_accept(token=token, user=user)
    assert Membership.objects.filter(tenant=tenant).count() == 2
    assert Invitation.objects.get(tenant=tenant).status == InvitationStatus.ACCEPTED


def test_an_expired_invitation_cannot_be_accepted(tenant, owner):
    now = timezone.now()
    _invitation, token = _invite(tenant, owner, now=now)
    user = UserFactory(email="new@example.test")
    later = now + services.INVITATION_VALID_FOR + timedelta(seconds=1)
    with pytest.raises(NotFound, match="expired"):
        services.invitation_accept(token=token, user=user, now=later)
    assert not Membership.objects.filter(user=user).exists()
    # Just before the end it still works.
    services.invitation_accept(
        token=token, user=user, now=now + services.INVITATION_VALID_FOR - timedelta(seconds=1)
    )


def test_the_invitation_is_bound_to_the_invited_email(tenant, owner):
    _invitation, token = _invite(tenant, owner)
    someone_else = UserFactory(email="other@example.test")
    with pytest.raises(PermissionDenied, match="new@example.test"):
        services.invitation_accept(token=token, user=someone_else)
    assert not Membership.objects.filter(user=someone_else).exists()
    invited = UserFactory(email="NEW@example.test")
    assert services.invitation_accept(token=token, user=invited).tenant == tenant


def test_resend_replaces_the_token_and_revoke_stops_it(tenant, owner):
    invitation, first = _invite(tenant, owner)
    invitation, second = services.invitation_resend(tenant=tenant, actor=owner, invitation=invitation)
    assert invitation.sent_count == 2
    with pytest.raises(NotFound, match="not valid"):
        services.invitation_for_token(first)
    assert services.invitation_for_token(second).pk == invitation.pk
    services.invitation_revoke(tenant=tenant, actor=owner, invitation=invitation)
    with pytest.raises(NotFound, match="withdrawn"):
        services.invitation_accept(token=second, user=UserFactory(email="new@example.test"))
    with pytest.raises(Conflict):
        services.invitation_resend(tenant=tenant, actor=owner, invitation=invitation)
    actions = list(AuditEntry.objects.filter(tenant=tenant).order_by("id").values_list("action", flat=True))
    assert actions == [
        AuditAction.INVITATION_SENT,
        AuditAction.INVITATION_RESENT,
        AuditAction.INVITATION_REVOKED,
    ]


def test_no_second_pending_invitation_and_no_invitation_of_a_member(tenant, owner, staff):
    _invite(tenant, owner)
    with pytest.raises(Conflict, match="pending"):
        _invite(tenant, owner, email="NEW@example.test")
    with pytest.raises(Conflict, match="already a member"):
        _invite(tenant, owner, email=staff.email)
    with pytest.raises(ValidationError):
        _invite(tenant, owner, email="not an email")


def test_who_may_invite_what(tenant, owner, manager, staff):
    with pytest.raises(PermissionDenied):
        _invite(tenant, manager, email="boss@example.test", role="owner")
    with pytest.raises(PermissionDenied):
        _invite(tenant, staff, email="friend@example.test", role="staff")
    _invite(tenant, manager, email="helper@example.test", role="staff")


def test_an_outsider_cannot_touch_another_tenants_team(tenant, owner, outsider, other_tenant):
    invitation, _token = _invite(tenant, owner)
    with pytest.raises(NotFound):
        _invite(tenant, outsider, email="x@example.test")
    with pytest.raises(NotFound):
        services.invitation_revoke(tenant=other_tenant, actor=outsider, invitation=invitation)
    member = Membership.objects.get(tenant=tenant, user=owner)
    with pytest.raises(NotFound):
        services.member_remove(tenant=other_tenant, actor=outsider, membership=member)


def test_a_help_desk_agent_gets_exactly_the_chosen_desks(tenant, owner, other_tenant):
    it = support_queue(tenant, slug="it", name="IT").support
    support_queue(tenant, slug="rooms", name="Rooms")
    foreign = support_queue(other_tenant, slug="it", name="IT").support
    with pytest.raises(ValidationError):
        _invite(tenant, owner, role="agent")
    with pytest.raises(ValidationError):
        _invite(tenant, owner, role="agent", desks=[foreign.pk])
    _invitation, token = _invite(tenant, owner, role="agent", desks=[it.pk])
    membership = services.invitation_accept(token=token, user=UserFactory(email="new@example.test"))
    assert membership.role == Role.STAFF
    assert list(
        SupportAgent.objects.filter(user=membership.user).values_list("support_queue", flat=True)
    ) == [it.pk]
    # Made plain staff: the desks go.
    services.member_change_role(tenant=tenant, actor=owner, membership=membership, role="staff")
    assert not SupportAgent.objects.filter(user=membership.user).exists()


def test_the_last_owner_can_neither_be_demoted_nor_leave(tenant, owner):
    mine = Membership.objects.get(tenant=tenant, user=owner)
    with pytest.raises(Conflict, match="last owner"):
        services.member_change_role(tenant=tenant, actor=owner, membership=mine, role="manager")
    with pytest.raises(Conflict, match="last owner"):
        services.member_remove(tenant=tenant, actor=owner, membership=mine)
    second = MembershipFactory(tenant=tenant, role=Role.OWNER)
    services.member_change_role(tenant=tenant, actor=owner, membership=mine, role="manager")
    assert Membership.objects.get(pk=mine.pk).role == Role.MANAGER
    with pytest.raises(Conflict, match="last owner"):
        services.member_remove(tenant=tenant, actor=second.user, membership=second)


def test_managers_manage_staff_only_and_anyone_may_leave(tenant, owner, manager, staff):
    owner_membership = Membership.objects.get(tenant=tenant, user=owner)
    staff_membership = Membership.objects.get(tenant=tenant, user=staff)
    with pytest.raises(PermissionDenied):
        services.member_change_role(tenant=tenant, actor=manager, membership=owner_membership, role="staff")
    with pytest.raises(PermissionDenied):
        services.member_change_role(tenant=tenant, actor=manager, membership=staff_membership, role="manager")
    services.member_remove(tenant=tenant, actor=manager, membership=staff_membership)
    manager_membership = Membership.objects.get(tenant=tenant, user=manager)
    services.member_remove(tenant=tenant, actor=manager, membership=manager_membership)
    actions = list(
        AuditEntry.objects.filter(tenant=tenant).order_by("id").values_list("action", "target_label")
    )
    assert actions == [(AuditAction.MEMBER_REMOVED, staff.email), (AuditAction.MEMBER_LEFT, manager.email)]
