"""The tenant's audit log: one helper to write an entry, one to read the log.

``audit_record`` runs inside the caller's transaction (it refuses to run outside one), so an entry
commits or rolls back with the change it describes. Entries are never updated or deleted by the app.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from team.models import AuditEntry
from tenants.models import Tenant


def audit_record(
    *, tenant: Tenant, actor, action: str, target: str = "", details: dict | None = None
) -> AuditEntry:
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record() must run inside the change's transaction")
    return AuditEntry.objects.create(
        tenant=tenant,
        actor=actor if actor is not None and actor.pk else None,
        actor_label=getattr(actor, "email", "") or "",
        action=action,
        target_label=str(target)[:254],
        details=details or {},
    )


def audit_log(tenant: Tenant, *, limit: int = 200) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.for_tenant(tenant).select_related("actor")[:limit]
