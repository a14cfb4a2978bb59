"""Invitations to a tenant's team and the tenant's audit log.

An :class:`Invitation` carries a role (owner, manager, staff, or help-desk agent of chosen desks — an agent
is a *staff* member with ``support.SupportAgent`` rows, the help desk's queue-scoped role). Its link holds
a random token; only the token's SHA-256 is stored, so the table cannot be used to accept anything. A
token is single-use (the invitation leaves ``pending``), expires at ``expires_at`` (every read treats a
past ``expires_at`` as expired, no sweeper needed), and is bound to the invited email. One pending
invitation per tenant and email (partial unique index).

:class:`AuditEntry` rows are append-only: who did what to whom, when, written by the service in the same
transaction as the change.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from core.models import TenantOwned


class InvitationRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    STAFF = "staff", _("Staff")
    AGENT = "agent", _("Help-desk agent")


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REVOKED = "revoked", _("Revoked")


class Invitation(TenantOwned):
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=InvitationRole.choices)
    desks = models.ManyToManyField("support.SupportQueue", blank=True, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    expires_at = models.DateTimeField()
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_count = models.PositiveSmallIntegerField(default=1)
    last_sent_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                "tenant",
                Lower("email"),
                condition=Q(status="pending"),
                name="invitation_one_pending_per_email",
            ),
            models.CheckConstraint(condition=Q(role__in=InvitationRole.values), name="invitation_role_valid"),
            models.CheckConstraint(
                condition=Q(status__in=InvitationStatus.values), name="invitation_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="accepted") | Q(accepted_at__isnull=False),
                name="invitation_accepted_has_time",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "status"], name="invitation_tenant_status")]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.tenant_id} as {self.role}"

    def is_expired(self, now) -> bool:
        return self.expires_at <= now


class AuditAction(models.TextChoices):
    INVITATION_SENT = "invitation.sent", _("Invitation sent")
    INVITATION_RESENT = "invitation.resent", _("Invitation sent again")
    INVITATION_REVOKED = "invitation.revoked", _("Invitation revoked")
    INVITATION_ACCEPTED = "invitation.accepted", _("Invitation accepted")
    MEMBER_ROLE_CHANGED = "member.role_changed", _("Role changed")
    MEMBER_REMOVED = "member.removed", _("Member removed")
    MEMBER_LEFT = "member.left", _("Member left")
    BRANDING_UPDATED = "branding.updated", _("Branding changed")
    LANGUAGE_CHANGED = "tenant.language_changed", _("Default language changed")
    DATA_REQUEST_PROCESSED = "privacy.processed", _("Data request processed")
    DATA_REQUEST_REJECTED = "privacy.rejected", _("Data request rejected")


class AuditEntry(TenantOwned):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Snapshots: the log stays readable after the actor or the target is removed or renamed.
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    target_label = models.CharField(max_length=254, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="auditentry_tenant_time")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_label}"

    @property
    def shown_details(self) -> list[tuple[str, str]]:
        from team.audit import shown_details

        return shown_details(self)
