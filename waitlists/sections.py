"""Waitlists' parts of the tenant's public home and the dashboard navigation."""

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from waitlists import selectors

DASHBOARD_NAV = [(_("Waitlists"), "waitlists:events")]


def public_section(request, tenant) -> str:
    events = selectors.sold_out_events(tenant)
    if not events:
        return ""
    return render_to_string(
        "waitlists/_section_public.html", {"tenant": tenant, "events": events}, request=request
    )
