"""``{% fairness_note event %}``: the draw's commitment (and, after the draw, the seed) with a link to the
event's public admission log. Renders nothing for an event without a committed waiting room. Used by
ticketing's event page, so ticketing needs no knowledge of the waiting room's models."""

from django import template
from django.template.loader import render_to_string

from waitingroom.models import WaitingRoom

register = template.Library()


@register.simple_tag(takes_context=True)
def fairness_note(context, event, room=None) -> str:
    if room is None:
        if not getattr(event, "waiting_room_enabled", False):
            return ""
        room = (
            WaitingRoom.objects.filter(event=event)
            .only("draw_commitment", "draw_seed", "shuffled_at", "committed_at", "event_id")
            .first()
        )
    if room is None or not room.draw_commitment:
        return ""
    return render_to_string(
        "waitingroom/_commitment.html",
        {"event": event, "room": room, "tenant_slug": context["tenant"].slug},
        request=context.get("request"),
    )
