from __future__ import annotations

import secrets

from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.webhooks.catalogue import GROUPS, WebhookEvent


class EndpointForm(forms.Form):
    """Add or edit an endpoint. The service validates again (and resolves the address); its field
    errors come back onto these fields."""

    url = forms.CharField(
        label=_("Endpoint URL"),
        max_length=500,
        widget=forms.URLInput(attrs={"autocomplete": "url", "inputmode": "url"}),
        help_text=_("We POST each event here as JSON. Use https:// for anything public."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        required=False,
        help_text=_("Optional: what this receiver is (\u201cCRM\u201d, \u201cbox office\u201d)."),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events to send"),
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )
    creation_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["creation_token"].initial = secrets.token_urlsafe(24)

    def groups(self) -> list[tuple[str, list]]:
        """The event checkboxes in their families (``support.ticket.*`` …), for one fieldset each."""
        boxes = {box.data["value"]: box for box in self["event_types"]}
        return [(label, [boxes[value] for value in values]) for label, values in GROUPS]
