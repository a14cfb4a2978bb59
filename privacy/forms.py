from django import forms
from django.utils.translation import gettext_lazy as _

from privacy.models import RequestKind


class AskForm(forms.Form):
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        help_text=_(
            "The address you used with us. We email a link to it; nothing happens until you open it."
        ),
    )
    kind = forms.ChoiceField(
        label=_("What do you want?"), choices=RequestKind.choices, widget=forms.RadioSelect
    )


class RejectForm(forms.Form):
    note = forms.CharField(
        label=_("Reason (sent to the person)"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
