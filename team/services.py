"""Write path for the team: invitations, role changes, removals. Every change writes an audit entry.

Who may do what: owners manage everyone; managers invite and manage staff and help-desk agents only
(never grant, change or remove a manager or an owner); staff manage nobody. Anyone but the last owner
may leave.

Locks: every membership change takes the tenant row ``FOR UPDATE`` first (one lock per tenant, so two
changes of one team run one after the other), then re-reads the actor's and the target's memberships
under it. That is what makes the last-owner rule hold: two owners demoting each other at the same time
run in turn, and the second finds it is no longer an owner (or that the other is the last one).

Invitation emails carry the raw token, which only exists in the service that makes it, so they are sent
from ``transaction.on_commit`` (a rolled-back invitation sends nothing). They are written in the invited
person's saved language when they already have an account, else in the team's default language.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.i18n import recipient_language
from support.membership import support_agent_desks_set, support_member_forget
from support.models import SupportQueue
from team.audit import audit_record
from team.models import AuditAction, Invitation, InvitationRole, InvitationStatus
from tenants.models import ROLE_RANK, Membership, Role, Tenant, User

INVITATION_VALID_FOR = timedelta(days=7)
TOKEN_BYTES = 32

# The tenant role each invitation role becomes; an agent is a staff member with desks.
MEMBERSHIP_ROLE = {
    InvitationRole.OWNER: Role.OWNER,
    InvitationRole.MANAGER: Role.MANAGER,
    InvitationRole.STAFF: Role.STAFF,
    InvitationRole.AGENT: Role.STAFF,
}


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def token_hash(token: str) -> str:
    return hashlib.sha256(str(token).encode()).hexdigest()


def invitation_url(token: str) -> str:
    return settings.SITE_URL + reverse("team:accept", kwargs={"token": token})


def _lock_tenant(tenant: Tenant) -> Tenant:
    return Tenant.objects.select_for_update().get(pk=tenant.pk)


def _actor_membership(tenant: Tenant, actor) -> Membership:
    membership = Membership.objects.filter(tenant=tenant, user=actor).first() if actor is not None else None
    if membership is None:
        raise NotFound()
    return membership


def _check_may_grant(actor_membership: Membership, role: str) -> None:
    """Managers hand out staff-level roles only; owners any role; staff nothing."""
    membership_role = MEMBERSHIP_ROLE[InvitationRole(role)]
    if actor_membership.role == Role.OWNER:
        return
    if actor_membership.role == Role.MANAGER and membership_role == Role.STAFF:
        return
    raise PermissionDenied(_("Only an owner can give someone that role."))


def _check_may_manage(actor_membership: Membership, target: Membership) -> None:
    if actor_membership.role == Role.OWNER:
        return
    if actor_membership.role == Role.MANAGER and ROLE_RANK[Role(target.role)] < ROLE_RANK[Role.MANAGER]:
        return
    raise PermissionDenied(_("Only an owner can change or remove a manager or an owner."))


def _desks(tenant: Tenant, role: str, desks: Iterable) -> list[SupportQueue]:
    chosen = list(desks or [])
    if role != InvitationRole.AGENT:
        return []
    ids = {getattr(desk, "pk", desk) for desk in chosen}
    found = list(SupportQueue.objects.for_tenant(tenant).filter(pk__in=ids).select_related("queue"))
    if not ids:
        raise ValidationError(
            _("Choose the desks."), field_errors={"desks": [_("Choose at least one help desk.")]}
        )
    if len(found) != len(ids):
        raise ValidationError(
            _("Choose the desks."), field_errors={"desks": [_("Choose desks of this team.")]}
        )
    return found


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationError(
            _("Check the email address."), field_errors={"email": [_("Enter a valid email address.")]}
        ) from None
    return email


def _send_invitation_email(*, tenant: Tenant, email: str, token: str, inviter, role: str) -> None:
    link = invitation_url(token)
    person = User.objects.filter(email__iexact=email).first()
    with translation.override(recipient_language(user=person, tenant=tenant)):
        names = {
            "tenant": tenant.name,
            "inviter": inviter.get_full_name() if inviter is not None else _("An owner"),
            "role": InvitationRole(role).label,
        }
        days = INVITATION_VALID_FOR.days
        subject = _("You are invited to join %(tenant)s on VirtualQ") % names
        body = (
            _("%(inviter)s invited you to join %(tenant)s with the role %(role)s.") % names
            + "\n\n"
            + ngettext(
                "Open this link to accept (it works for %(days)s day, once):",
                "Open this link to accept (it works for %(days)s days, once):",
                days,
            )
            % {"days": days}
            + f"\n\n{link}\n\n"
            + _("If you did not expect this, ignore this email.")
            + "\n"
        )
    send_mail(subject, body, None, [email])


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def invitation_send(
    *,
    tenant: Tenant,
    actor: User,
    email: str,
    role: str,
    desks: Iterable = (),
    now: datetime | None = None,
) -> tuple[Invitation, str]:
    """Invite ``email`` to the team with ``role`` (an agent needs at least one desk of this tenant).

    Returns the invitation and its raw token (also emailed, on commit). Locks the tenant row. Raises
    ValidationError (bad email, role or desks), PermissionDenied (the actor may not grant the role),
    Conflict (already a member, or already invited — resend that invitation instead)."""
    now = _now(now)
    email = _clean_email(email)
    if role not in InvitationRole.values:
        raise ValidationError(_("Choose a role."), field_errors={"role": [_("Choose a role.")]})
    desk_rows = _desks(tenant, role, desks)
    token, hashed = _new_token()
    with transaction.atomic(durable=True):
        tenant = _lock_tenant(tenant)
        _check_may_grant(_actor_membership(tenant, actor), role)
        if Membership.objects.filter(tenant=tenant, user__email__iexact=email).exists():
            raise Conflict(_("%(email)s is already a member of this team.") % {"email": email})
        if (
            Invitation.objects.for_tenant(tenant)
            .filter(email__iexact=email, status=InvitationStatus.PENDING)
            .exists()
        ):
            raise Conflict(
                _("%(email)s already has a pending invitation: send it again from the list.")
                % {"email": email}
            )
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    tenant=tenant,
                    email=email,
                    role=role,
                    token_hash=hashed,
                    expires_at=now + INVITATION_VALID_FOR,
                    invited_by=actor,
                    last_sent_at=now,
                )
        except IntegrityError:
            raise Conflict(_("%(email)s already has a pending invitation.") % {"email": email}) from None
        invitation.desks.set(desk_rows)
        audit_record(
            tenant=tenant,
            actor=actor,
            action=AuditAction.INVITATION_SENT,
            target=email,
            details={"role": role, "desks": [desk.queue.name for desk in desk_rows]},
        )
        transaction.on_commit(
            lambda: _send_invitation_email(tenant=tenant, email=email, token=token, inviter=actor, role=role)
        )
    return invitation, token


def _pending_for_update(tenant: Tenant, invitation_id: int) -> Invitation:
    invitation = Invitation.objects.select_for_update().filter(tenant=tenant, pk=invitation_id).first()
    if invitation is None:
        raise NotFound()
    if invitation.status != InvitationStatus.PENDING:
        if invitation.status == InvitationStatus.ACCEPTED:
            raise Conflict(_("This invitation was already accepted."))
        raise Conflict(_("This invitation was already revoked."))
    return invitation


def invitation_resend(
    *, tenant: Tenant, actor: User, invitation: Invitation, now: datetime | None = None
) -> tuple[Invitation, str]:
    """Send a pending invitation again with a fresh token and expiry; the old link stops working.

    Locks the tenant row, then the invitation. Raises NotFound (another tenant's), Conflict (no longer
    pending), PermissionDenied (a manager resending an owner's or manager's invitation)."""
    now = _now(now)
    token, hashed = _new_token()
    with transaction.atomic(durable=True):
        tenant = _lock_tenant(tenant)
        actor_membership = _actor_membership(tenant, actor)
        invitation = _pending_for_update(tenant, invitation.pk)
        _check_may_grant(actor_membership, invitation.role)
        invitation.token_hash = hashed
        invitation.expires_at = now + INVITATION_VALID_FOR
        invitation.last_sent_at = now
        invitation.sent_count += 1
        invitation.save(
            update_fields=["token_hash", "expires_at", "last_sent_at", "sent_count", "updated_at"]
        )
        audit_record(
            tenant=tenant,
            actor=actor,
            action=AuditAction.INVITATION_RESENT,
            target=invitation.email,
            details={"role": invitation.role, "sent_count": invitation.sent_count},
        )
        email, role = invitation.email, invitation.role
        transaction.on_commit(
            lambda: _send_invitation_email(tenant=tenant, email=email, token=token, inviter=actor, role=role)
        )
    return invitation, token


def invitation_revoke(
    *, tenant: Tenant, actor: User, invitation: Invitation, now: datetime | None = None
) -> Invitation:
    """Revoke a pending invitation: its link stops working at once. Locks as ``invitation_resend``;
    raises the same errors."""
    now = _now(now)
    with transaction.atomic(durable=True):
        tenant = _lock_tenant(tenant)
        actor_membership = _actor_membership(tenant, actor)
        invitation = _pending_for_update(tenant, invitation.pk)
        _check_may_grant(actor_membership, invitation.role)
        invitation.status = InvitationStatus.REVOKED
        invitation.revoked_at = now
        invitation.save(update_fields=["status", "revoked_at", "updated_at"])
        audit_record(
            tenant=tenant, actor=actor, action=AuditAction.INVITATION_REVOKED, target=invitation.email
        )
    return invitation


def invitation_for_token(token: str, *, now: datetime | None = None) -> Invitation:
    """The pending, unexpired invitation of ``token``, or NotFound with a message that says why not."""
    now = _now(now)
    invitation = (
        Invitation.objects.select_related("tenant", "invited_by").filter(token_hash=token_hash(token)).first()
    )
    if invitation is None:
        raise NotFound(_("This invitation link is not valid. It may have been replaced by a newer one."))
    if invitation.status == InvitationStatus.ACCEPTED:
        raise NotFound(_("This invitation was already used. Log in to reach the team."))
    if invitation.status == InvitationStatus.REVOKED:
        raise NotFound(_("This invitation was withdrawn. Ask the team for a new one."))
    if invitation.is_expired(now):
        raise NotFound(_("This invitation has expired. Ask the team to send it again."))
    return invitation


def invitation_accepted_by(token: str, user: User) -> Tenant | None:
    """The tenant whose invitation of ``token`` ``user`` accepted (and is still a member of), else None."""
    invitation = (
        Invitation.objects.select_related("tenant")
        .filter(token_hash=token_hash(token), status=InvitationStatus.ACCEPTED, accepted_by=user)
        .first()
    )
    if invitation and Membership.objects.filter(tenant=invitation.tenant, user=user).exists():
        return invitation.tenant
    return None


def _accept_locked(invitation: Invitation, user: User, now: datetime) -> Membership:
    tenant = invitation.tenant
    if Membership.objects.filter(tenant=tenant, user=user).exists():
        raise Conflict(_("You are already a member of this team."))
    membership = Membership.objects.create(
        tenant=tenant, user=user, role=MEMBERSHIP_ROLE[InvitationRole(invitation.role)]
    )
    desks = list(invitation.desks.all())
    if desks:
        support_agent_desks_set(tenant=tenant, user=user, desks=desks)
    invitation.status = InvitationStatus.ACCEPTED
    invitation.accepted_at = now
    invitation.accepted_by = user
    invitation.save(update_fields=["status", "accepted_at", "accepted_by", "updated_at"])
    audit_record(
        tenant=tenant,
        actor=user,
        action=AuditAction.INVITATION_ACCEPTED,
        target=user.email,
        details={"role": invitation.role, "desks": [desk.queue.name for desk in desks]},
    )
    return membership


def _invitation_for_accept(token: str, now: datetime) -> Invitation:
    invitation = invitation_for_token(token, now=now)
    # Lock the tenant (membership changes run in turn), then the invitation, and re-check: two clicks
    # of one link at once accept once.
    _lock_tenant(invitation.tenant)
    invitation = Invitation.objects.select_for_update().select_related("tenant").get(pk=invitation.pk)
    if invitation.status != InvitationStatus.PENDING or invitation.is_expired(now):
        raise NotFound(_("This invitation was already used, withdrawn or has expired."))
    return invitation


def invitation_accept(*, token: str, user: User, now: datetime | None = None) -> Membership:
    """Accept the invitation of ``token`` as the signed-in ``user``, whose email must be the invited one.

    Single use: the invitation leaves ``pending`` in this transaction. Locks the tenant row, then the
    invitation. Raises NotFound (bad, used, revoked or expired token), PermissionDenied (another email),
    Conflict (already a member)."""
    now = _now(now)
    with transaction.atomic(durable=True):
        invitation = _invitation_for_accept(token, now)
        if user.email.lower() != invitation.email.lower():
            raise PermissionDenied(
                _("This invitation is for %(email)s. Log out, then sign in or sign up with that address.")
                % {"email": invitation.email}
            )
        return _accept_locked(invitation, user, now)


def _member_for_update(tenant: Tenant, membership_id: int) -> Membership:
    membership = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(tenant=tenant, pk=membership_id)
        .first()
    )
    if membership is None:
        raise NotFound(_("That person is not a member of this team (any more)."))
    return membership


def _other_owners(tenant: Tenant, membership: Membership) -> int:
    return Membership.objects.filter(tenant=tenant, role=Role.OWNER).exclude(pk=membership.pk).count()


def member_change_role(
    *,
    tenant: Tenant,
    actor: User,
    membership: Membership,
    role: str,
    desks: Iterable = (),
    now: datetime | None = None,
) -> Membership:
    """Give a member another role (``InvitationRole``: an agent gets exactly ``desks``; any other role
    loses its desks). The last owner cannot be demoted.

    Locks the tenant row, then the membership; re-reads both memberships under the lock. Raises
    NotFound, PermissionDenied, ValidationError (role, desks), Conflict (the last owner)."""
    if role not in InvitationRole.values:
        raise ValidationError(_("Choose a role."), field_errors={"role": [_("Choose a role.")]})
    desk_rows = _desks(tenant, role, desks)
    new_role = MEMBERSHIP_ROLE[InvitationRole(role)]
    with transaction.atomic(durable=True):
        tenant = _lock_tenant(tenant)
        actor_membership = _actor_membership(tenant, actor)
        target = _member_for_update(tenant, membership.pk)
        _check_may_manage(actor_membership, target)
        _check_may_grant(actor_membership, role)
        old_role = target.role
        if old_role == Role.OWNER and new_role != Role.OWNER and _other_owners(tenant, target) == 0:
            raise Conflict(_("This is the last owner: make someone else an owner first."))
        if old_role != new_role:
            target.role = new_role
            target.save(update_fields=["role", "updated_at"])
        support_agent_desks_set(tenant=tenant, user=target.user, desks=desk_rows)
        audit_record(
            tenant=tenant,
            actor=actor,
            action=AuditAction.MEMBER_ROLE_CHANGED,
            target=target.user.email,
            details={"from": old_role, "to": role, "desks": [desk.queue.name for desk in desk_rows]},
        )
    return target


def member_remove(
    *, tenant: Tenant, actor: User, membership: Membership, now: datetime | None = None
) -> None:
    """Remove a member from the team (or leave it, when ``membership`` is the actor's own). Their desks
    and escalation duties go too; their past work keeps their name. The last owner can neither leave
    nor be removed.

    Locks as ``member_change_role``. Raises NotFound, PermissionDenied, Conflict (the last owner)."""
    with transaction.atomic(durable=True):
        tenant = _lock_tenant(tenant)
        actor_membership = _actor_membership(tenant, actor)
        target = _member_for_update(tenant, membership.pk)
        leaving = target.pk == actor_membership.pk
        if not leaving:
            _check_may_manage(actor_membership, target)
        if target.role == Role.OWNER and _other_owners(tenant, target) == 0:
            raise Conflict(
                _("You are the last owner: make someone else an owner before you leave.")
                if leaving
                else _("This is the last owner: make someone else an owner first.")
            )
        support_member_forget(tenant=tenant, user=target.user)
        email, role = target.user.email, target.role
        target.delete()
        audit_record(
            tenant=tenant,
            actor=actor,
            action=AuditAction.MEMBER_LEFT if leaving else AuditAction.MEMBER_REMOVED,
            target=email,
            details={"role": role},
        )
