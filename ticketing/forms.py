"""Forms. Date-times are typed in the VENUE's time zone (shown next to each field) and converted to UTC
here; a wall-clock time that does not exist on a DST change day (clocks jump forward) is refused with a
clear message, and an ambiguous one (clocks go back) is read as the first occurrence."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from core.money import major_text, parse_money
from core.numbers import set_range
from ticketing.models import TierKind, Venue
from ticketing.payments import PROVIDERS

LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def to_utc(value: datetime | None, zone_name: str) -> datetime | None:
    """A naive wall-clock time in ``zone_name`` → aware UTC; ValidationError if it does not exist."""
    if value is None:
        return None
    zone = zoneinfo.ZoneInfo(zone_name)
    naive = value.replace(tzinfo=None)
    aware = naive.replace(tzinfo=zone, fold=0)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise forms.ValidationError(
            _("%(time)s does not exist on %(date)s in %(zone)s (the clocks go forward). Choose another time.")
            % {"time": f"{naive:%H:%M}", "date": date_format(naive, "j F Y"), "zone": zone_name}
        )
    return aware.astimezone(UTC)


def to_local_input(value: datetime | None, zone_name: str) -> str:
    if value is None:
        return ""
    return value.astimezone(zoneinfo.ZoneInfo(zone_name)).strftime(LOCAL_INPUT)


class LocalDateTimeField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("input_formats", [LOCAL_INPUT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"])
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        # Parse as naive wall-clock time; the form converts it in the venue's zone.
        if value in self.empty_values:
            return None
        for fmt in self.input_formats:
            try:
                return datetime.strptime(str(value).strip(), fmt)
            except ValueError:
                continue
        raise forms.ValidationError(_("Enter a date and time, for example 2026-03-29 19:30."))


class MoneyField(forms.CharField):
    def __init__(self, *args, currency: str = "USD", **kwargs):
        self.currency = currency
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return 0
        try:
            return parse_money(value, self.currency)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


class VenueForm(forms.ModelForm):
    class Meta:
        model = Venue
        fields = ["name", "address", "city", "time_zone", "latitude", "longitude", "capacity"]
        labels = {
            "name": _("Name"),
            "address": _("Address"),
            "city": _("City"),
            "time_zone": _("Time zone"),
            "latitude": _("Latitude"),
            "longitude": _("Longitude"),
            "capacity": _("Capacity"),
        }
        help_texts = {"time_zone": _("IANA name, for example Europe/London. Event times are shown in it.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        set_range(self.fields["capacity"], 1, 1_000_000)
        set_range(self.fields["latitude"], -90, 90)
        set_range(self.fields["longitude"], -180, 180)


class EventForm(forms.Form):
    DATETIME_FIELDS = ("starts_at", "ends_at", "doors_open_at", "sale_starts_at", "sale_ends_at")

    venue = forms.ModelChoiceField(queryset=Venue.objects.none(), label=_("Venue"))
    title = forms.CharField(max_length=200, label=_("Title"))
    performer = forms.CharField(max_length=200, required=False, label=_("Artist / performer"))
    description = forms.CharField(widget=forms.Textarea, required=False, label=_("Description"))
    starts_at = LocalDateTimeField(label=_("Starts"))
    ends_at = LocalDateTimeField(label=_("Ends"))
    doors_open_at = LocalDateTimeField(label=_("Doors open"), required=False)
    sale_starts_at = LocalDateTimeField(label=_("Sale starts"), required=False)
    sale_ends_at = LocalDateTimeField(label=_("Sale ends"), required=False)
    checkout_limit = forms.IntegerField(
        min_value=1,
        max_value=10000,
        initial=5,
        label=_("Checkout limit"),
        help_text=_("Checkouts open at once."),
    )
    checkout_minutes = forms.IntegerField(
        min_value=1,
        max_value=120,
        initial=10,
        label=_("Checkout minutes"),
        help_text=_("Minutes a checkout holds seats."),
    )
    per_order_max = forms.IntegerField(
        min_value=1, max_value=100, initial=10, label=_("Most tickets per order")
    )
    fee_fixed = MoneyField(required=False, label=_("Service fee per ticket (fixed)"), initial="0")
    fee_percent = forms.DecimalField(
        min_value=0, max_value=100, decimal_places=2, initial=0, label=_("Service fee per ticket (%)")
    )
    tax_percent = forms.DecimalField(
        min_value=0,
        max_value=100,
        decimal_places=2,
        initial=0,
        # xgettext:no-python-format
        label=_("Tax (% of tickets + fees)"),
    )
    waiting_room_enabled = forms.BooleanField(required=False, label=_("Use a waiting room for this sale"))
    capacity = forms.IntegerField(
        min_value=1,
        max_value=1_000_000,
        required=False,
        label=_("Capacity"),
        help_text=_("Most tickets all tiers together may offer. Empty: the venue's capacity."),
    )
    pay_at_door = forms.ChoiceField(
        choices=[
            ("", _("Default (allowed, except behind a waiting room)")),
            ("on", _("Allowed")),
            ("off", _("Not allowed")),
        ],
        required=False,
        label=_("Pay at the door"),
        help_text=_("Buyers reserve without paying; unpaid reservations expire and go back on sale."),
    )
    pay_at_door_max_per_buyer = forms.IntegerField(
        min_value=1, max_value=100, initial=4, required=False, label=_("Most unpaid tickets per buyer")
    )
    pay_at_door_hold_hours = forms.IntegerField(
        min_value=1,
        max_value=24 * 60,
        initial=48,
        required=False,
        label=_("Hours an unpaid reservation is held"),
    )
    pay_at_door_max_outstanding = forms.IntegerField(
        min_value=1,
        max_value=1_000_000,
        required=False,
        label=_("Most unpaid tickets for the whole event"),
        help_text=_("All pay-at-the-door reservations together. Empty: no cap."),
    )
    open_checkouts_per_buyer = forms.IntegerField(
        min_value=1,
        max_value=100,
        initial=1,
        required=False,
        label=_("Open checkouts per buyer"),
        help_text=_("Checkouts one browser or signed-in buyer may have open at once."),
    )
    open_checkouts_per_address = forms.IntegerField(
        min_value=1,
        max_value=10000,
        initial=3,
        required=False,
        label=_("Open checkouts per network address"),
        help_text=_("Checkouts one network address (a household, an office) may have open at once."),
    )

    def __init__(self, *args, tenant, event=None, **kwargs):
        self.tenant = tenant
        self.event = event
        if event is not None:
            kwargs.setdefault(
                "initial",
                {
                    **{
                        name: getattr(event, name)
                        for name in (
                            "title",
                            "performer",
                            "description",
                            "checkout_limit",
                            "checkout_minutes",
                            "per_order_max",
                            "fee_percent",
                            "tax_percent",
                            "waiting_room_enabled",
                            "capacity",
                            "pay_at_door_max_per_buyer",
                            "pay_at_door_hold_hours",
                            "pay_at_door_max_outstanding",
                            "open_checkouts_per_buyer",
                            "open_checkouts_per_address",
                        )
                    },  # noqa: E501
                    **{
                        name: to_local_input(getattr(event, name), event.time_zone)
                        for name in self.DATETIME_FIELDS
                    },
                    "fee_fixed": major_text(event.fee_fixed_cents, event.currency),
                    "pay_at_door": "on" if event.pay_at_door_enabled else "off",
                    "venue": event.venue_id,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["venue"].queryset = Venue.objects.for_tenant(tenant)
        if event is not None:
            # The venue (and its zone) is fixed once the event exists: it was snapshotted.
            del self.fields["venue"]
        zone = event.time_zone if event else "the venue's time zone"
        for name in self.DATETIME_FIELDS:
            self.fields[name].help_text = _("In %(zone)s.") % {"zone": zone}

    def clean(self):
        data = super().clean()
        zone = self.event.time_zone if self.event else getattr(data.get("venue"), "time_zone", None)
        if zone:
            for name in self.DATETIME_FIELDS:
                try:
                    data[name] = to_utc(data.get(name), zone)
                except forms.ValidationError as error:
                    self.add_error(name, error)
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", _("The event must end after it starts."))
        if data.get("doors_open_at") and data.get("starts_at") and data["doors_open_at"] > data["starts_at"]:
            self.add_error("doors_open_at", _("Doors must open at or before the start time."))
        if (
            data.get("sale_starts_at")
            and data.get("sale_ends_at")
            and data["sale_ends_at"] <= data["sale_starts_at"]
        ):
            self.add_error("sale_ends_at", _("The sale must end after it starts."))
        return data

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data["fee_fixed_cents"] = data.pop("fee_fixed") or 0
        pay_at_door = data.pop("pay_at_door", "")
        if pay_at_door:
            data["pay_at_door_enabled"] = pay_at_door == "on"
        optional_fields = (
            "capacity",
            "pay_at_door_max_per_buyer",
            "pay_at_door_hold_hours",
            "open_checkouts_per_buyer",
            "open_checkouts_per_address",
        )
        for optional in optional_fields:
            if not data.get(optional):
                data.pop(optional, None)  # empty: keep the default / the current value
        return data


class TierForm(forms.Form):
    name = forms.CharField(max_length=120, label=_("Name"))
    kind = forms.ChoiceField(choices=TierKind.choices, label=_("Kind"))
    price = MoneyField(label=_("Price"), help_text=_("0 for free tickets."))
    quantity = forms.IntegerField(min_value=0, max_value=1_000_000, label=_("Quantity"))
    sale_starts_at = LocalDateTimeField(label=_("Sale starts"), required=False)
    sale_ends_at = LocalDateTimeField(label=_("Sale ends"), required=False)
    min_per_order = forms.IntegerField(min_value=1, max_value=100, initial=1, label=_("Fewest per order"))
    max_per_order = forms.IntegerField(min_value=1, max_value=100, initial=10, label=_("Most per order"))
    position = forms.IntegerField(
        min_value=0, max_value=10_000, initial=0, label=_("Position"), help_text=_("Lower comes first.")
    )
    is_active = forms.BooleanField(required=False, initial=True, label=_("On sale (shown on the event page)"))

    def __init__(self, *args, event, tier=None, **kwargs):
        self.event = event
        if tier is not None:
            kwargs.setdefault(
                "initial",
                {
                    **{
                        name: getattr(tier, name)
                        for name in (
                            "name",
                            "kind",
                            "quantity",
                            "min_per_order",
                            "max_per_order",
                            "position",
                            "is_active",
                        )
                    },  # noqa: E501
                    "price": major_text(tier.price_cents, event.currency),
                    "sale_starts_at": to_local_input(tier.sale_starts_at, event.time_zone),
                    "sale_ends_at": to_local_input(tier.sale_ends_at, event.time_zone),
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["price"].currency = event.currency
        for name in ("sale_starts_at", "sale_ends_at"):
            self.fields[name].help_text = _("In %(zone)s. Leave empty to follow the event's sale.") % {
                "zone": event.time_zone
            }

    def clean(self):
        data = super().clean()
        for name in ("sale_starts_at", "sale_ends_at"):
            try:
                data[name] = to_utc(data.get(name), self.event.time_zone)
            except forms.ValidationError as error:
                self.add_error(name, error)
        if (
            data.get("min_per_order")
            and data.get("max_per_order")
            and data["min_per_order"] > data["max_per_order"]
        ):
            self.add_error("max_per_order", _("The most per order cannot be below the fewest."))
        if (
            data.get("sale_starts_at")
            and data.get("sale_ends_at")
            and data["sale_ends_at"] <= data["sale_starts_at"]
        ):
            self.add_error("sale_ends_at", _("The sale must end after it starts."))
        return data

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data["price_cents"] = data.pop("price")
        return data


class CustomerDetailsForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Your name"))
    email = forms.EmailField(label=_("Email"), help_text=_("We send your tickets here."))
    phone = forms.CharField(max_length=40, required=False, label=_("Phone (optional)"))
    email_consent = forms.BooleanField(
        required=False, label=_("Email me about future events from this organiser")
    )


class PaymentForm(forms.Form):
    provider = forms.ChoiceField(widget=forms.RadioSelect, label=_("How would you like to pay?"))
    card_number = forms.CharField(
        max_length=30,
        required=False,
        label=_("Card number"),
        help_text=_("Test mode: 4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number"}),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)
    # The total the buyer was shown: the service refuses to charge anything else (PriceChanged).
    expected_total = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=0, max_value=10**12
    )
    expected_currency = forms.CharField(widget=forms.HiddenInput, required=False, max_length=3)

    def __init__(self, *args, providers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [(p.name, p.label) for p in providers]
        if len(providers) == 1:
            self.fields["provider"].initial = providers[0].name
        if "test_card" not in {p.name for p in providers}:
            del self.fields["card_number"]

    def clean(self):
        data = super().clean()
        if data.get("provider") == "test_card" and not (data.get("card_number") or "").strip():
            self.add_error("card_number", _("Enter the card number."))
        return data


class CheckInForm(forms.Form):
    code = forms.CharField(
        max_length=400,
        label=_("Ticket code"),
        help_text=_("Scan the QR code or type the code printed under it."),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off", "autocapitalize": "off"}),
    )
    # Sent by the "payment collected — admit" button of an unpaid (pay-at-the-door) ticket's answer.
    payment_collected = forms.BooleanField(required=False, widget=forms.HiddenInput)


class MyTicketsForm(forms.Form):
    email = forms.EmailField(label=_("The email you bought with"))


PROVIDER_NAMES = list(PROVIDERS)


class RefundPolicyForm(forms.Form):
    buyer_refunds_until = LocalDateTimeField(
        label=_("Buyers can refund their own tickets until"),
        required=False,
        help_text=_("In the event's time zone. Leave empty to allow no self-service refunds."),
    )

    def __init__(self, *args, event, **kwargs):
        self.event = event
        initial = kwargs.pop("initial", {}) or {}
        if initial.get("buyer_refunds_until"):
            initial = {"buyer_refunds_until": to_local_input(initial["buyer_refunds_until"], event.time_zone)}
        super().__init__(*args, initial=initial, **kwargs)

    def clean_buyer_refunds_until(self):
        return to_utc(self.cleaned_data.get("buyer_refunds_until"), self.event.time_zone)
