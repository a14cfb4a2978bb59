"""Reads for the team pages: members with their desks, pending invitations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from support.models import SupportAgent, SupportQueue
from team.models import Invitation, InvitationStatus
from tenants.models import Membership, Role, Tenant


@dataclass
class MemberRow:
    membership: Membership
    desks: list[SupportQueue] = field(default_factory=list)

    @property
    def role_value(self) -> str:
        """The role as the team form shows it: a staff member with desks is a help-desk agent."""
        if self.membership.role == Role.STAFF and self.desks:
            return "agent"
        return self.membership.role

    @property
    def role_label(self) -> str:
        if self.role_value == "agent":
            return _("Help-desk agent of %(desks)s") % {
                "desks": ", ".join(desk.queue.name for desk in self.desks)
            }
        return self.membership.get_role_display()


def team_members(tenant: Tenant) -> list[MemberRow]:
    memberships = list(Membership.objects.for_tenant(tenant).select_related("user").order_by("user__email"))
    desks: dict[int, list[SupportQueue]] = {}
    for agent in (
        SupportAgent.objects.for_tenant(tenant)
        .select_related("support_queue__queue")
        .order_by("support_queue__queue__name")
    ):
        desks.setdefault(agent.user_id, []).append(agent.support_queue)
    return [MemberRow(membership=m, desks=desks.get(m.user_id, [])) for m in memberships]


def pending_invitations(tenant: Tenant) -> QuerySet[Invitation]:
    return (
        Invitation.objects.for_tenant(tenant)
        .filter(status=InvitationStatus.PENDING)
        .select_related("invited_by")
        .prefetch_related(Prefetch("desks", queryset=SupportQueue.objects.select_related("queue")))
        .order_by("email")
    )


def tenant_desks(tenant: Tenant) -> QuerySet[SupportQueue]:
    return SupportQueue.objects.for_tenant(tenant).select_related("queue").order_by("queue__name")


def is_expired(invitation: Invitation, now: datetime) -> bool:
    return invitation.is_expired(now)
