from django import forms
from django.utils.translation import gettext_lazy as _

from team.models import InvitationRole


class _RoleFields(forms.Form):
    # Staff first: inviting an owner is a deliberate choice, never what a hurried owner gets by default.
    role = forms.ChoiceField(label=_("Role"), choices=InvitationRole.choices, initial=InvitationRole.STAFF)
    desks = forms.MultipleChoiceField(
        label=_("Help desks (for a help-desk agent)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("An agent sees and works only the desks ticked here."),
    )

    def __init__(self, *args, desks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["desks"].choices = [(str(desk.pk), desk.queue.name) for desk in desks]
        if not self.fields["desks"].choices:
            self.fields["desks"].help_text = _("This team has no help desk yet.")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") == InvitationRole.AGENT and not cleaned.get("desks"):
            self.add_error("desks", _("Choose at least one help desk for an agent."))
        return cleaned


class InviteForm(_RoleFields):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    field_order = ["email", "role", "desks"]


class RoleForm(_RoleFields):
    pass
