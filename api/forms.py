from django import forms
from django.utils.translation import gettext_lazy as _

from api.models import Scope


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What will use this key: box office, kiosk, CRM …")
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[Scope.READ],
        help_text=_("Give a key only what it needs."),
    )
