from django import forms


class PaymentSettingsForm(forms.Form):
    stripe_publishable_key = forms.CharField(
        max_length=200, required=False, label="Stripe publishable key", help_text="pk_test_… or pk_live_…"
    )
    stripe_secret_key = forms.CharField(
        max_length=200,
        required=False,
        label="Stripe secret key",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    stripe_webhook_secret = forms.CharField(
        max_length=200,
        required=False,
        label="Stripe webhook signing secret",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    disconnect_stripe = forms.BooleanField(required=False, label="Disconnect Stripe (remove all three keys)")
    legal_name = forms.CharField(max_length=200, required=False, label="Name on receipts")
    address = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Address on receipts"
    )
    tax_id = forms.CharField(max_length=60, required=False, label="Tax / VAT number")
    tip_capture_on = forms.ChoiceField(
        choices=[("approve", "When I approve the request"), ("complete", "When I complete the request")],
        label="Charge priority tips",
        help_text="Tips are authorised when the fan submits and voided if you reject the request.",
    )

    def __init__(self, *args, row=None, **kwargs):
        super().__init__(*args, **kwargs)
        if row is not None:
            if row.stripe_secret_key_mask:
                self.fields[
                    "stripe_secret_key"
                ].help_text = f"Stored encrypted: {row.stripe_secret_key_mask}. Leave empty to keep it."
            if row.stripe_webhook_secret_mask:
                self.fields[
                    "stripe_webhook_secret"
                ].help_text = f"Stored encrypted: {row.stripe_webhook_secret_mask}. Leave empty to keep it."
