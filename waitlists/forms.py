from django import forms
from django.utils.translation import gettext_lazy as _

ANY_TIER = "any"


class JoinForm(forms.Form):
    email = forms.EmailField(label=_("Email"), help_text=_("We send the offer here. Nothing else."))
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    quantity = forms.TypedChoiceField(label=_("How many tickets"), coerce=int)
    tier = forms.ChoiceField(label=_("Ticket type"))

    def __init__(self, *args, tiers=(), max_quantity=4, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quantity"].choices = [(n, str(n)) for n in range(1, max_quantity + 1)]
        self.fields["tier"].choices = [(ANY_TIER, _("Any ticket type"))] + [
            (str(tier.id), tier.name) for tier in tiers
        ]
        self.fields["tier"].help_text = _(
            "“Any” gets you the first seats that free up in any ticket type, at that type's price."
        )
        self.fields["email"].widget.attrs.update({"autocomplete": "email", "inputmode": "email"})
        self.fields["name"].widget.attrs.update({"autocomplete": "name"})


class SettingsForm(forms.Form):
    enabled = forms.BooleanField(label=_("People may join the waitlist when sold out"), required=False)
    offer_hours = forms.IntegerField(
        label=_("Offer window (hours)"),
        min_value=1,
        max_value=336,
        help_text=_("How long an offer holds the seats."),
    )
    max_quantity = forms.IntegerField(label=_("Most tickets per person"), min_value=1, max_value=50)
