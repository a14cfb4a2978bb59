from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from notifications.types import Channel, EventType


class PreferencesForm(forms.Form):
    """One checkbox per (event type, channel) switch; field names are ``<event_type>|<channel>``."""

    def __init__(self, *args, switches: dict[tuple[str, str], bool], **kwargs):
        super().__init__(*args, **kwargs)
        self.switches = switches
        for (event_type, channel), enabled in switches.items():
            self.fields[f"{event_type}|{channel}"] = forms.BooleanField(
                required=False,
                initial=enabled,
                label=gettext("%(event)s by %(channel)s")
                % {"event": EventType(event_type).label, "channel": Channel(channel).label},
            )

    def rows(self) -> list[dict]:
        """Table rows for the template: an event label and its bound checkboxes in channel order."""
        rows: dict[str, dict] = {}
        for event_type, channel in self.switches:
            row = rows.setdefault(event_type, {"label": EventType(event_type).label, "fields": []})
            row["fields"].append(self[f"{event_type}|{channel}"])
        return list(rows.values())

    def channels(self) -> list[str]:
        seen: list[str] = []
        for _event_type, channel in self.switches:
            if channel not in seen:
                seen.append(channel)
        return [Channel(c).label for c in seen]

    def choices(self) -> dict[tuple[str, str], bool]:
        return {
            (event_type, channel): bool(self.cleaned_data.get(f"{event_type}|{channel}"))
            for event_type, channel in self.switches
        }


class UnsubscribeForm(forms.Form):
    scope = forms.ChoiceField(
        choices=[("event", _("Only this kind of email")), ("all", _("All emails from this organiser"))],
        initial="event",
        widget=forms.RadioSelect,
        label=_("Stop sending me"),
    )
