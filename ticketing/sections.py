"""Ticketing's parts of the tenant's public home and dashboard home."""

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from ticketing import selectors

DASHBOARD_NAV = [(_("Events"), "ticketing:events"), (_("Orders"), "ticketing:orders")]


def public_section(request, tenant) -> str:
    events = selectors.public_events(tenant)[:6]
    if not events:
        return ""
    return render_to_string(
        "ticketing/_section_public.html", {"tenant": tenant, "events": events}, request=request
    )


def dashboard_section(request, tenant) -> str:
    events = selectors.dashboard_events(tenant)[:5]
    return render_to_string(
        "ticketing/_section_dashboard.html", {"tenant": tenant, "events": events}, request=request
    )
