"""The tenant's audit log: one helper to write an entry, one to read the log, one to show its details.

``audit_record`` runs inside the caller's transaction (it refuses to run outside one), so an entry
commits or rolls back with the change it describes. Entries are never updated or deleted by the app.

Details are stored as written, language-neutral: codes (roles, languages, request kinds) and fixed
English words marked with ``gettext_noop``; ``shown_details`` turns them into the reader's language.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import get_language_info, gettext, gettext_lazy, pgettext_lazy

from team.models import AuditEntry, InvitationRole
from tenants.models import Tenant

# The detail keys the services write, as the log's reader sees them, in the order they are shown.
DETAIL_LABELS = {
    "from": pgettext_lazy("audit change", "From"),
    "to": pgettext_lazy("audit change", "To"),
    "role": gettext_lazy("Role"),
    "desks": gettext_lazy("Help desks"),
    "sent_count": gettext_lazy("Times sent"),
    "changed": gettext_lazy("Changed"),
    "accent_colour": gettext_lazy("Accent colour"),
    "kind": gettext_lazy("Request"),
    "reason": gettext_lazy("Reason"),
}


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


def _shown_value(key: str, value) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_shown_value(key, item) for item in value) or "—"
    if value is None or value == "":
        return "—"
    text = str(value)
    if key in ("role", "from", "to") and text in InvitationRole.values:
        return str(InvitationRole(text).label)
    if key in ("from", "to") and text in dict(settings.LANGUAGES):
        return str(get_language_info(text)["name_translated"])
    if key == "kind":
        from privacy.models import RequestKind  # privacy writes to this log; team does not depend on it

        if text in RequestKind.values:
            return str(RequestKind(text).label)
    if key in ("changed", "reason"):
        return gettext(text)  # fixed words are stored untranslated (gettext_noop); free text stays as is
    return text


def shown_details(entry: AuditEntry) -> list[tuple[str, str]]:
    """``(label, value)`` pairs of ``entry.details`` in the active language, known keys in a fixed order
    (the JSON column keeps no order: "from" would follow "to")."""
    order = list(DETAIL_LABELS)
    keys = sorted(entry.details, key=lambda key: (order.index(key) if key in order else len(order), key))
    return [(str(DETAIL_LABELS.get(key, key)), _shown_value(key, entry.details[key])) for key in keys]
