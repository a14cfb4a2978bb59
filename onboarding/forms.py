"""Forms of the sign-up and "Create your space" flows. They check shape and say what is wrong next to
the field; the services re-check everything (the slug under the database's unique index)."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.utils.text import slugify
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from onboarding.selectors import own_recent_space, slug_check
from queues.models import TicketType
from queues.services import system_ticket_type
from tenants.models import LANGUAGES
from ticketing.forms import LocalDateTimeField, MoneyField, to_utc

CURRENCIES = [
    ("USD", _("USD — US dollar")), ("EUR", _("EUR — euro")), ("GBP", _("GBP — pound sterling")),
    ("CAD", _("CAD — Canadian dollar")), ("AUD", _("AUD — Australian dollar")),
    ("CHF", _("CHF — Swiss franc")), ("INR", _("INR — Indian rupee")), ("JPY", _("JPY — yen")),
    ("SEK", _("SEK — Swedish krona")), ("MXN", _("MXN — Mexican peso")), ("BRL", _("BRL — Brazilian real")),
]  # fmt: skip
TIME_ZONES = sorted(zone for zone in zoneinfo.available_timezones() if "/" in zone or zone == "UTC")


class SignupDetailsForm(forms.Form):
    """Extra sign-up fields, merged by allauth into its sign-up form (ACCOUNT_SIGNUP_FORM_CLASS)."""

    name = forms.CharField(
        max_length=150,
        required=False,
        label=_("Your name"),
        help_text=_("Shown to your team; optional."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def signup(self, request, user) -> None:
        # The adapter's save_user already stored the name; allauth requires this hook to exist.
        return None


class SpaceForm(forms.Form):
    name = forms.CharField(
        max_length=200, label=_("Name of your space"), help_text=_("Shown on your public page.")
    )
    slug = forms.CharField(
        max_length=60,
        label=_("Address"),
        help_text=_("Your public page will be at /<address>/ — lower-case letters, digits and hyphens."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "data-slug-check": "/start/address/"}
        ),
    )
    time_zone = forms.ChoiceField(
        choices=[(zone, zone) for zone in TIME_ZONES], initial="UTC", label=_("Time zone")
    )
    currency = forms.ChoiceField(choices=CURRENCIES, initial="USD", label=_("Currency"))
    language = forms.ChoiceField(choices=LANGUAGES, initial="en", label=_("Language"))
    account_name = forms.CharField(
        max_length=200,
        required=False,
        label=_("Billing name"),
        help_text=_("The person or business we bill; leave empty to use the name of your space."),
    )
    billing_email = forms.EmailField(
        required=False, label=_("Billing email"), help_text=_("Leave empty to use your login email.")
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.already_created = None

    def clean_slug(self) -> str:
        check = slug_check(self.cleaned_data["slug"])
        if not check.available:
            mine = own_recent_space(self.user, check.slug)
            if mine is not None:
                # A second press of "Create my space" (or a resent form): the space is already theirs.
                self.already_created = mine
                return check.slug
            raise forms.ValidationError(check.message)
        return check.slug


SLUG_HELP = _("The last part of the share link; leave empty to make one from the name.")


def _slug_field(label: str, help_text: str) -> forms.SlugField:
    return forms.SlugField(max_length=60, label=label, help_text=help_text, required=False)


class CreatorQueueForm(forms.Form):
    name = forms.CharField(max_length=120, label=_("Queue name"), initial=_("Requests"))
    slug = _slug_field(_("Queue address"), SLUG_HELP)
    priority_enabled = forms.BooleanField(required=False, initial=True, label=_("Priority lane (with a tip)"))
    personal_enabled = forms.BooleanField(required=False, initial=True, label=_("Personal lane (free)"))

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["minimum_tip"] = MoneyField(
            currency=tenant.currency,
            label=gettext("Minimum tip for the priority lane (%(currency)s)") % {"currency": tenant.currency},
            initial="5",
            help_text=gettext("Priority requests are served three for every personal one."),
        )
        self.order_fields(["name", "slug", "priority_enabled", "minimum_tip", "personal_enabled"])

    def clean(self):
        cleaned = super().clean()
        cleaned["slug"] = cleaned.get("slug") or slugify(cleaned.get("name", ""))[:60] or "requests"
        if not (cleaned.get("priority_enabled") or cleaned.get("personal_enabled")):
            self.add_error("priority_enabled", gettext("Keep at least one lane open."))
        return cleaned


class ServiceQueueForm(forms.Form):
    name = forms.CharField(max_length=120, label=_("Queue name"), initial=_("Counter"))
    slug = _slug_field(_("Queue address"), SLUG_HELP)
    ticket_type = forms.ModelChoiceField(
        queryset=TicketType.objects.none(),
        required=False,
        label=pgettext_lazy("queue", "Ticket type"),
        empty_label=_("Define my own steps (below)"),
        help_text=_("The steps a ticket goes through."),
    )
    new_type_name = forms.CharField(max_length=100, required=False, label=_("Name of your ticket type"))
    new_type_steps = forms.CharField(
        required=False,
        label=_("Your steps, one per line"),
        help_text=_(
            "From waiting in line to done, e.g. Waiting, Being made, Ready, Collected. "
            "Steps written here make a new ticket type instead of the one picked above."
        ),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    default_service_minutes = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=24 * 60,
        label=_("Minutes per person (for the first estimates)"),
    )

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        # The system "service" type, recreated from its data if a flushed database lost it.
        service = system_ticket_type("service")
        own = TicketType.objects.filter(tenant=tenant).values_list("pk", flat=True)
        self.fields["ticket_type"].queryset = TicketType.objects.filter(pk__in=[service.pk, *own])
        self.fields["ticket_type"].initial = service

    def clean(self):
        cleaned = super().clean()
        cleaned["slug"] = cleaned.get("slug") or slugify(cleaned.get("name", ""))[:60] or "counter"
        steps = [line.strip() for line in (cleaned.get("new_type_steps") or "").splitlines() if line.strip()]
        cleaned["steps"] = steps
        if cleaned.get("ticket_type") is None and not steps:
            self.add_error("new_type_steps", gettext("Pick a ticket type above, or write your steps here."))
        if steps:
            cleaned["ticket_type"] = None  # written steps define a new type, whatever was picked above
        return cleaned


class EventForm(forms.Form):
    title = forms.CharField(max_length=200, label=_("Event name"))
    starts_at = LocalDateTimeField(label=_("Starts"))
    ends_at = LocalDateTimeField(label=_("Ends"))
    venue_name = forms.CharField(max_length=200, label=_("Venue"))
    venue_city = forms.CharField(max_length=120, label=_("City"))
    venue_address = forms.CharField(max_length=300, required=False, label=_("Street address"))
    venue_capacity = forms.IntegerField(min_value=1, max_value=1_000_000, label=_("Venue capacity (people)"))

    TIERS = 3

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.fields["starts_at"].help_text = gettext("In %(zone)s.") % {"zone": tenant.time_zone}
        for number in range(1, self.TIERS + 1):
            first = number == 1
            self.fields[f"tier_{number}_name"] = forms.CharField(
                max_length=120,
                required=first,
                label=gettext("Tier %(number)s name") % {"number": number},
                initial=pgettext("ticket tier", "General") if first else "",
                help_text="" if first else gettext("Optional: leave this tier empty if you need fewer."),
            )
            self.fields[f"tier_{number}_price"] = MoneyField(
                currency=tenant.currency,
                required=False,
                label=gettext("Tier %(number)s price (%(currency)s)")
                % {"number": number, "currency": tenant.currency},
            )
            self.fields[f"tier_{number}_quantity"] = forms.IntegerField(
                min_value=1,
                max_value=1_000_000,
                required=first,
                label=gettext("Tier %(number)s tickets") % {"number": number},
            )

    def clean(self):
        cleaned = super().clean()
        for key in ("starts_at", "ends_at"):
            if cleaned.get(key) is not None:
                try:
                    cleaned[key] = to_utc(cleaned[key], self.tenant.time_zone)
                except forms.ValidationError as error:
                    self.add_error(key, error)
        tiers = []
        for number in range(1, self.TIERS + 1):
            name = cleaned.get(f"tier_{number}_name")
            quantity = cleaned.get(f"tier_{number}_quantity")
            if name and not quantity:
                self.add_error(f"tier_{number}_quantity", gettext("How many tickets of this tier?"))
            elif quantity and not name:
                self.add_error(f"tier_{number}_name", gettext("Give this tier a name."))
            elif name:
                tiers.append((name, cleaned.get(f"tier_{number}_price") or 0, quantity))
        cleaned["tiers"] = tiers
        return cleaned


class HelpDeskForm(forms.Form):
    name = forms.CharField(max_length=120, label=_("Help desk name"), initial=_("Help"))
    slug = _slug_field(_("Help desk address"), SLUG_HELP)
    turnaround_hours = forms.IntegerField(
        min_value=1,
        max_value=720,
        initial=8,
        label=_("Answer within (hours)"),
        help_text=_("Your promised turnaround."),
    )

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        cleaned["slug"] = cleaned.get("slug") or slugify(cleaned.get("name", ""))[:60] or "help"
        return cleaned


class SecurityForm(forms.Form):
    require_two_factor = forms.BooleanField(
        required=False,
        label=_("Require two-factor authentication for every member"),
        help_text=_("Members without it are sent to set it up before they can open this dashboard."),
    )
