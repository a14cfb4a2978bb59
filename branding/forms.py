from django import forms

from branding.services import INTRO_MAX_CHARS, LOGO_MAX_BYTES


class BrandingForm(forms.Form):
    accent_colour = forms.CharField(
        label="Accent colour",
        max_length=7,
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text="Links and buttons on your public pages. It must reach WCAG AA contrast (4.5:1) with "
        "white text and the page background; lighter colours are refused.",
    )
    intro = forms.CharField(
        label="Short intro",
        required=False,
        max_length=INTRO_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"Shown under your name on your public page. Up to {INTRO_MAX_CHARS} characters.",
    )
    logo = forms.FileField(
        label="Logo",
        required=False,
        help_text=f"PNG, JPEG, GIF or WebP, up to {LOGO_MAX_BYTES // 1024} KB.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
    )
    remove_logo = forms.BooleanField(label="Remove the current logo", required=False)

    def clean_logo(self):
        upload = self.cleaned_data.get("logo")
        if upload and upload.size > LOGO_MAX_BYTES:
            raise forms.ValidationError(
                f"The logo is {upload.size // 1024} KB; the limit is {LOGO_MAX_BYTES // 1024} KB."
            )
        return upload
