"""Forms of the sign-up and "Create your space" flows."""

from __future__ import annotations

from django import forms


class SignupDetailsForm(forms.Form):
    """Extra sign-up fields, merged by allauth into its sign-up form (ACCOUNT_SIGNUP_FORM_CLASS)."""

    name = forms.CharField(
        max_length=150,
        required=False,
        label="Your name",
        help_text="Shown to your team; optional.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def signup(self, request, user) -> None:
        # The adapter's save_user already stored the name; allauth requires this hook to exist.
        return None
