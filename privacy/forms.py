from django import forms

from privacy.models import RequestKind


class AskForm(forms.Form):
    email = forms.EmailField(
        label="Your email address",
        max_length=254,
        help_text="The address you used with us. We email a link to it; nothing happens until you open it.",
    )
    kind = forms.ChoiceField(label="What do you want?", choices=RequestKind.choices, widget=forms.RadioSelect)


class RejectForm(forms.Form):
    note = forms.CharField(
        label="Reason (sent to the person)", max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
