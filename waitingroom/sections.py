"""Waiting room's parts of the tenant's public home and the dashboard navigation."""

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from ticketing.models import EventStatus
from waitingroom.models import WaitingRoom

DASHBOARD_NAV = [(_("Waiting rooms"), "waitingroom:rooms")]


def public_section(request, tenant) -> str:
    rooms = list(
        WaitingRoom.objects.for_tenant(tenant)
        .filter(
            event__waiting_room_enabled=True, event__status__in=[EventStatus.ON_SALE, EventStatus.SOLD_OUT]
        )
        .select_related("event")
        .order_by("event__starts_at")[:10]
    )
    if not rooms:
        return ""
    return render_to_string(
        "waitingroom/_section_public.html", {"tenant": tenant, "rooms": rooms}, request=request
    )
