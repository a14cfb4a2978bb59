"""The public event list and its search (``ticketing.search``): text, sale status and city in one GET
form, so each filter keeps the others in the URL."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone

from tenants.access import get_public_tenant
from ticketing import search


def event_list(request, tenant_slug):
    tenant = get_public_tenant(tenant_slug)
    now = timezone.now()
    query = search.clean_text(request.GET.get("q", ""))
    sale = request.GET.get("status", "")
    sale = sale if sale in search.SALE_FILTERS else ""
    cities = search.public_cities(tenant, now=now)
    city = search.clean_text(request.GET.get("city", ""), limit=120)
    city = next((name for name in cities if name.lower() == city.lower()), "")
    events = search.public_events(tenant, query=query, sale=sale, city=city, now=now)
    for event in events:
        event.state = event.sale_state(now)
    return render(
        request,
        "ticketing/event_list.html",
        {
            "tenant": tenant,
            "events": events,
            "query": query,
            "sale": sale,
            "sale_filters": search.SALE_FILTERS.items(),
            "city": city,
            "cities": cities,
            "filtered": bool(query or sale or city),
            "limit": search.SEARCH_LIMIT,
        },
    )
