from django import forms
from django.contrib.auth import password_validation

from team.models import InvitationRole


class _RoleFields(forms.Form):
    role = forms.ChoiceField(label="Role", choices=InvitationRole.choices)
    desks = forms.MultipleChoiceField(
        label="Help desks (for a help-desk agent)",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="An agent sees and works only the desks ticked here.",
    )

    def __init__(self, *args, desks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["desks"].choices = [(str(desk.pk), desk.queue.name) for desk in desks]
        if not self.fields["desks"].choices:
            self.fields["desks"].help_text = "This team has no help desk yet."

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") == InvitationRole.AGENT and not cleaned.get("desks"):
            self.add_error("desks", "Choose at least one help desk for an agent.")
        return cleaned

    def apply_errors(self, field_errors: dict[str, list[str]]) -> None:
        for name, errors in field_errors.items():
            for error in errors:
                self.add_error(name if name in self.fields else None, error)


class InviteForm(_RoleFields):
    email = forms.EmailField(label="Email address", max_length=254)
    field_order = ["email", "role", "desks"]


class RoleForm(_RoleFields):
    pass


class InvitationSignupForm(forms.Form):
    name = forms.CharField(label="Your name", max_length=150, required=False)
    password1 = forms.CharField(
        label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False
    )
    password2 = forms.CharField(
        label="Password again",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )

    def __init__(self, *args, email: str, **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        elif first:
            from tenants.models import User

            try:
                password_validation.validate_password(
                    first, User(email=self.email, name=cleaned.get("name", ""))
                )
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned
