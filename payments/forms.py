from django import forms
from django.utils.translation import gettext_lazy as _


class PaymentSettingsForm(forms.Form):
    stripe_publishable_key = forms.CharField(
        max_length=200,
        required=False,
        label=_("Stripe publishable key"),
        help_text=_("pk_test_… or pk_live_…"),
    )
    stripe_secret_key = forms.CharField(
        max_length=200,
        required=False,
        label=_("Stripe secret key"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    stripe_webhook_secret = forms.CharField(
        max_length=200,
        required=False,
        label=_("Stripe webhook signing secret"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    disconnect_stripe = forms.BooleanField(
        required=False, label=_("Disconnect Stripe (remove all three keys)")
    )
    legal_name = forms.CharField(max_length=200, required=False, label=_("Name on receipts"))
    address = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("Address on receipts")
    )
    tax_id = forms.CharField(max_length=60, required=False, label=_("Tax / VAT number"))
    tip_capture_on = forms.ChoiceField(
        choices=[
            ("approve", _("When I approve the request")),
            ("complete", _("When I complete the request")),
        ],
        label=_("Charge priority tips"),
        help_text=_("Tips are authorised when the fan submits and voided if you reject the request."),
    )

    def __init__(self, *args, row=None, **kwargs):
        super().__init__(*args, **kwargs)
        if row is not None:
            if row.stripe_secret_key_mask:
                self.fields["stripe_secret_key"].help_text = _(
                    "Stored encrypted: %(mask)s. Leave empty to keep it."
                ) % {"mask": row.stripe_secret_key_mask}
            if row.stripe_webhook_secret_mask:
                self.fields["stripe_webhook_secret"].help_text = _(
                    "Stored encrypted: %(mask)s. Leave empty to keep it."
                ) % {"mask": row.stripe_webhook_secret_mask}
