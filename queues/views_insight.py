"""Staff pages about how a queue performed: ETA accuracy (hit rate, chart) and the service-order export.
Members of the queue's tenant only (``member_required``; another tenant's queue is a 404). Read-only."""

from __future__ import annotations

from django.shortcuts import render

from queues import accuracy
from queues.models import EtaScope
from queues.views_dashboard import _queue
from tenants.access import member_required


@member_required()
def queue_eta(request, queue_slug: str):
    queue = _queue(request, queue_slug)
    context = {"tenant": request.tenant, "queue": queue}
    context.update(
        accuracy.accuracy_context(
            scope=EtaScope.QUEUE, scope_id=queue.pk, title=f"ETA hit rate per day, {queue.name}"
        )
    )
    return render(request, "queues/dashboard/eta.html", context)
