"""Staff pages about how a queue performed: ETA accuracy (hit rate, chart) and the service-order export.
Members of the queue's tenant only (``member_required``; another tenant's queue is a 404). Read-only."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from queues import accuracy, positions, served_order
from queues.models import EtaScope
from queues.views_dashboard import _queue
from tenants.access import member_required


@member_required()
def queue_eta(request, queue_slug: str):
    queue = _queue(request, queue_slug)
    context = {"tenant": request.tenant, "queue": queue}
    context.update(
        accuracy.accuracy_context(
            scope=EtaScope.QUEUE,
            scope_id=queue.pk,
            title=gettext("ETA hit rate per day, %(queue)s") % {"queue": queue.name},
        )
    )
    return render(request, "queues/dashboard/eta.html", context)


SHOWN_VIOLATIONS = 200


@member_required()
def queue_served(request, queue_slug: str):
    """The served order's check: how many turns were checked and every row that breaks the lane rule."""
    queue = _queue(request, queue_slug)
    order = served_order.served_order(queue)
    rule = positions.rule_in_words([(lane.name, lane.weight) for lane in order.lanes])
    violations = [
        {
            "row": row,
            "lane": order.lane_name(row.lane_id),
            "expected": order.lane_name(row.expected_lane_id),
        }
        for row in order.violations[:SHOWN_VIOLATIONS]
    ]
    context = {
        "tenant": request.tenant,
        "queue": queue,
        "order": order,
        "rule": rule,
        "violations": violations,
        "more_violations": max(0, len(order.violations) - SHOWN_VIOLATIONS),
    }
    return render(request, "queues/dashboard/served.html", context)


@member_required()
def queue_served_csv(request, queue_slug: str):
    """The served order as CSV, each row with what was waiting and whether it followed the rule."""
    queue = _queue(request, queue_slug)
    response = StreamingHttpResponse(
        served_order.csv_lines(served_order.served_order(queue)), content_type="text/csv; charset=utf-8"
    )
    name = _("served-order-%(queue)s.csv") % {"queue": queue.slug}
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
