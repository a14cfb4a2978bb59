"""Waiting for a checkout place (seed 002, mitigation 9: the thundering herd at a full checkout).

When every checkout place of an event is taken, ``views.checkout_start`` sends the buyer here with their
choice in the query string instead of "try again". This page changes nothing (GET): it shows the choice
and how many places are free, and carries a POST form (CSRF) back to ``checkout_start``.
``static/ticketing/checkout-wait.js`` submits that form by itself as soon as a place frees — told by the
event's availability socket (``checkout_free`` in ``ticketing.events``), or by its own periodic fetch of
``checkout_places`` when the socket is down — after a short random delay, so a freed place does not meet
every waiting browser in the same millisecond. Without JavaScript, a meta refresh reloads this page and it
offers the button once a place is free. Another buyer may still take the place first; then
``checkout_start`` sends the buyer back here, still waiting.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from core.errors import NotFound
from core.ratelimit import check_rate, client_address
from tenants.access import get_public_tenant
from ticketing import selectors
from ticketing.events import availability_group, checkout_places_text
from ticketing.models import TicketTier

MAX_TIER_FIELDS = 50
REFRESH_SECONDS = 15
PLACES_RATE = "120/60"


def wait_url(tenant, event, quantities: dict[int, int]) -> str:
    """The waiting page of ``event`` keeping the buyer's ``quantities`` (``{tier_id: n}``, n > 0)."""
    query = urlencode({f"tier_{tier_id}": n for tier_id, n in sorted(quantities.items()) if n > 0})
    path = reverse(
        "ticketing_public:checkout_wait", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug}
    )
    return f"{path}?{query}" if query else path


def _chosen(request, event) -> list[tuple[TicketTier, int]]:
    """The choice in the query string, as (tier, quantity) of the event's active tiers. Anything that is
    not a whole number of an active tier of this event is dropped: the checkout checks again anyway."""
    wanted: dict[int, int] = {}
    for key, value in list(request.GET.items())[:MAX_TIER_FIELDS]:
        tier_id = key[5:] if key.startswith("tier_") else ""
        whole = value.isascii() and value.isdigit() and 0 < len(value) <= 3
        if tier_id.isascii() and tier_id.isdigit() and len(tier_id) <= 18 and whole and int(value) > 0:
            wanted[int(tier_id)] = int(value)
    tiers = TicketTier.objects.filter(event=event, is_active=True, pk__in=wanted).order_by("position", "id")
    return [(tier, wanted[tier.id]) for tier in tiers]


@never_cache
def checkout_wait(request, tenant_slug, event_slug):
    tenant = get_public_tenant(tenant_slug)
    event = selectors.event_for_public(tenant, event_slug)
    chosen = _chosen(request, event)
    if not chosen or event.waiting_room_enabled:
        # Nothing to wait for (or the waiting room decides who checks out): the event page says why.
        return redirect("ticketing_public:event", tenant_slug=tenant.slug, event_slug=event.slug)
    free = selectors.free_checkout_places(event, now=timezone.now())
    return render(
        request,
        "ticketing/checkout_wait.html",
        {
            "tenant": tenant,
            "event": event,
            "chosen": chosen,
            "free": free,
            "free_text": checkout_places_text(free),
            "refresh_seconds": REFRESH_SECONDS,
            "socket_path": f"/ws/ticketing/{tenant.id}/events/{event.id}/",
            "group": availability_group(tenant.id, event.id),
        },
    )


@never_cache
def checkout_places(request, tenant_slug, event_slug):
    """``{"free": n}``: the waiting page's fallback when its socket is down (read-only, rate limited)."""
    tenant = get_public_tenant(tenant_slug)
    check_rate("ticketing-checkout-places", client_address(request), PLACES_RATE)
    event = selectors.event_for_public(tenant, event_slug)
    if event.waiting_room_enabled:
        raise NotFound("This event's checkout is reached through its waiting room.")
    return JsonResponse({"free": selectors.free_checkout_places(event, now=timezone.now())})
