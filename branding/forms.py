from django import forms
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from branding.services import INTRO_MAX_CHARS, LOGO_MAX_BYTES


class BrandingForm(forms.Form):
    accent_colour = forms.CharField(
        label=_("Accent colour"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_(
            "Links and buttons on your public pages. It must reach WCAG AA contrast (4.5:1) with "
            "white text and the page background; lighter colours are refused."
        ),
    )
    intro = forms.CharField(
        label=_("Short intro"),
        required=False,
        max_length=INTRO_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
    )
    remove_logo = forms.BooleanField(label=_("Remove the current logo"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Help texts with numbers are built here, in the language of the request.
        self.fields["intro"].help_text = ngettext(
            "Shown under your name on your public page. Up to %(count)s character.",
            "Shown under your name on your public page. Up to %(count)s characters.",
            INTRO_MAX_CHARS,
        ) % {"count": INTRO_MAX_CHARS}
        self.fields["logo"].help_text = gettext("PNG, JPEG, GIF or WebP, up to %(size)s KB.") % {
            "size": LOGO_MAX_BYTES // 1024
        }

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if upload and upload.size > LOGO_MAX_BYTES:
            raise forms.ValidationError(
                gettext("The logo is %(size)s KB; the limit is %(limit)s KB.")
                % {"size": upload.size // 1024, "limit": LOGO_MAX_BYTES // 1024}
            )
        return upload
