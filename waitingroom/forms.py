from django import forms
from django.utils.translation import gettext_lazy as _


class EmailJoinForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"), help_text=_("We email you a link; opening it puts you in line.")
    )
    name = forms.CharField(label=_("Name"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update({"autocomplete": "email", "inputmode": "email"})
        self.fields["name"].widget.attrs.update({"autocomplete": "name"})


class SettingsForm(forms.Form):
    enabled = forms.BooleanField(label=_("Use the waiting room for this sale"), required=False)
    opens_at = forms.DateTimeField(
        label=_("Opens at (event's time zone)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Empty: when the sale starts. People who arrive earlier join the pre-queue."),
    )
    admission_minutes = forms.IntegerField(
        label=_("Admission window (minutes)"),
        min_value=1,
        max_value=240,
        help_text=_("Time to start checkout."),
    )
    unseen_minutes = forms.IntegerField(
        label=_("Unseen expiry (minutes)"),
        min_value=1,
        max_value=1440,
        help_text=_("Away this long loses the place."),
    )
    cooldown_minutes = forms.IntegerField(
        label=_("Rejoin cooldown (minutes)"),
        min_value=0,
        max_value=1440,
        help_text=_("After leaving on purpose."),
    )
    prequeue_shuffle = forms.BooleanField(label=_("Shuffle people who arrive before opening"), required=False)
