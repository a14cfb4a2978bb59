from __future__ import annotations

from django import forms

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
                label=f"{EventType(event_type).label} by {Channel(channel).label}",
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
        for _, channel in self.switches:
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
        choices=[("event", "Only this kind of email"), ("all", "All emails from this organiser")],
        initial="event",
        widget=forms.RadioSelect,
        label="Stop sending me",
    )
