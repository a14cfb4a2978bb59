"""The waitlist's panel on ticketing's event page (registered in ``WaitlistsConfig.ready``)."""

from django.template.loader import render_to_string

from ticketing.services import SELLABLE_STATUSES
from waitlists.services import settings_for


def join_panel(request, event) -> str:
    """While the sale is open and sold out: a link to join the event's waitlist, when it takes people."""
    if not (settings_for(event).enabled and event.status in SELLABLE_STATUSES):
        return ""
    return render_to_string("waitlists/_event_panel.html", {"event": event}, request=request)
