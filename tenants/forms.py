from django import forms
from django.utils.translation import gettext_lazy as _

from tenants.models import LANGUAGES


class TenantLanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Default language"),
        choices=LANGUAGES,
        help_text=_(
            "Your public pages speak it to visitors who have not chosen a language, and emails use it "
            "for people whose language is not known yet. Everyone can still switch at the foot of a page."
        ),
    )
