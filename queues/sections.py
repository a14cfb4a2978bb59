"""Queue sections on the tenant's public page (a live card per public queue) and dashboard home."""

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from queues import selectors

DASHBOARD_NAV = [(_("Queues"), "queues:queue_list")]


def public_section(request, tenant) -> str:
    snapshots = [selectors.queue_snapshot(queue) for queue in selectors.public_queues(tenant)]
    if not snapshots:
        return ""
    return render_to_string(
        "queues/_public_section.html", {"snapshots": snapshots, "tenant": tenant}, request=request
    )


def dashboard_section(request, tenant) -> str:
    snapshots = [selectors.queue_snapshot(queue) for queue in selectors.queues_for_tenant(tenant)]
    pending = {s.queue.pk: selectors.pending_count(s.queue) for s in snapshots}
    return render_to_string(
        "queues/_dashboard_section.html",
        {"snapshots": snapshots, "tenant": tenant, "pending": pending},
        request=request,
    )
