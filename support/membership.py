"""The help desk's side of team changes: which desks (support queues) a member is an agent of.

These helpers run inside the caller's transaction (the team services own it, lock the tenant row
first and call these after), so a role change and the member's desks commit together.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from support.models import SupportAgent, SupportQueue
from tenants.models import Tenant


def desks_of(tenant: Tenant, user) -> list[SupportQueue]:
    return list(
        SupportQueue.objects.for_tenant(tenant)
        .filter(agents__user=user)
        .select_related("queue")
        .order_by("queue__name")
    )


def support_agent_desks_set(*, tenant: Tenant, user, desks: Iterable[SupportQueue]) -> None:
    """Make ``user`` an agent of exactly ``desks`` (of ``tenant``): new desks get a row with the default
    rotation settings, desks no longer chosen lose theirs, kept desks keep their settings."""
    if not connection.in_atomic_block:
        raise RuntimeError("support_agent_desks_set() must run inside the caller's transaction")
    wanted = {desk.pk for desk in desks if desk.tenant_id == tenant.pk}
    current = set(
        SupportAgent.objects.for_tenant(tenant).filter(user=user).values_list("support_queue_id", flat=True)
    )
    SupportAgent.objects.for_tenant(tenant).filter(user=user, support_queue_id__in=current - wanted).delete()
    SupportAgent.objects.bulk_create(
        SupportAgent(tenant=tenant, support_queue_id=desk_id, user=user)
        for desk_id in sorted(wanted - current)
    )


def support_member_forget(*, tenant: Tenant, user) -> None:
    """A member leaves: no desk keeps them in its rotation or escalation chain."""
    if not connection.in_atomic_block:
        raise RuntimeError("support_member_forget() must run inside the caller's transaction")
    SupportAgent.objects.for_tenant(tenant).filter(user=user).delete()
    SupportQueue.objects.for_tenant(tenant).filter(escalation_manager=user).update(escalation_manager=None)
    SupportQueue.objects.for_tenant(tenant).filter(escalation_owner=user).update(escalation_owner=None)
