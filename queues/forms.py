"""Forms for queues. They collect and tidy input; the services decide (and re-check everything)."""

from __future__ import annotations

import datetime
import json

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.money import format_money, major_text, parse_money
from core.numbers import set_range
from core.references import new_token
from queues import schema_forms
from queues.models import Lane, Queue, QueueKind, TicketType


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class SubmitForm(forms.Form):
    """The public submission form; the type's custom fields are added from its JSON Schema."""

    submission_token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    name = forms.CharField(max_length=200, label=_("Your name"))
    email = forms.EmailField(label=_("Email"), help_text=_("We use it only for this request."))
    phone = forms.CharField(max_length=40, required=False, label=_("Phone (optional)"))
    location = forms.CharField(max_length=200, required=False, label=_("Where are you? (optional)"))
    social_handle = forms.CharField(max_length=100, required=False, label=_("Social handle (optional)"))
    need_text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=4000, label=_("What do you need?")
    )
    lane = forms.ChoiceField(label=_("Lane"), widget=forms.RadioSelect)
    tip = forms.CharField(max_length=12, required=False, label=_("Tip"))
    attachments = MultipleFileField(required=False, label=_("Attachments (optional)"))
    email_consent = forms.BooleanField(required=False, label=_("Email me when my request moves"))
    # A tip is authorised on the fan's card at submission (payments.tips): the test card's number, or
    # the PaymentMethod id Stripe's Payment Element created in the browser.
    card = forms.CharField(
        max_length=30,
        required=False,
        label=_("Card number for the tip"),
        help_text=_("Held now, charged only when your request is accepted. Test mode: 4242 4242 4242 4242."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number"}),
    )
    payment_method = forms.CharField(widget=forms.HiddenInput, max_length=100, required=False)

    def __init__(self, *args, queue: Queue, lanes: list[Lane], tip_provider: str = "test_card", **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.tip_provider = tip_provider
        if tip_provider == "stripe":
            del self.fields["card"]
        else:
            del self.fields["payment_method"]
        self.queue = queue
        self.lanes = {str(lane.pk): lane for lane in lanes}
        currency = queue.tenant.currency
        choices = []
        for lane in lanes:
            label = lane.name
            if lane.minimum_tip_cents:
                label = gettext("%(lane)s — tip of at least %(amount)s") % {
                    "lane": label,
                    "amount": format_money(lane.minimum_tip_cents, currency),
                }
            if not lane.enabled:
                label = gettext("%(lane)s (closed right now)") % {"lane": label}
            choices.append((str(lane.pk), label))
        self.fields["lane"].choices = choices
        if len(lanes) == 1:
            self.fields["lane"].widget = forms.HiddenInput()
            self.fields["lane"].initial = str(lanes[0].pk)
        else:
            self.fields["lane"].help_text = " ".join(
                f"{lane.name}: {lane.description.rstrip('.')}." for lane in lanes if lane.description
            )
        minimums = [lane for lane in lanes if lane.minimum_tip_cents]
        if minimums:
            self.fields["tip"].help_text = " ".join(
                [
                    *(
                        gettext("The %(lane)s lane needs a tip of at least %(amount)s.")
                        % {
                            "lane": lane.name.lower(),
                            "amount": format_money(lane.minimum_tip_cents, currency),
                        }
                        for lane in minimums
                    ),
                    gettext("Amount in %(currency)s, e.g. 5 or 5.50.") % {"currency": currency},
                ]
            )
        else:
            self.fields["tip"].help_text = gettext("Optional, in %(currency)s.") % {"currency": currency}
        limit = settings.UPLOAD_MAX_BYTES // (1024 * 1024) or 1
        self.fields["attachments"].help_text = gettext(
            "Up to 3 files, %(limit)s MB each: images (JPEG, PNG, GIF, WebP), PDF, text or MP3."
        ) % {"limit": limit}
        if queue.kind == QueueKind.SUPPORT:
            self.fields["need_text"].label = gettext("Describe the problem")
        self.schema = queue.ticket_type.custom_fields_schema or {}
        self.fields.update(schema_forms.form_fields(self.schema, system=queue.ticket_type.is_system))
        if not self.is_bound:
            self.initial.setdefault("submission_token", new_token(24))

    def clean_tip(self):
        text = (self.cleaned_data.get("tip") or "").strip()
        if not text:
            return 0
        try:
            return parse_money(text, self.queue.tenant.currency)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self):
        cleaned = super().clean()
        lane = self.lanes.get(cleaned.get("lane") or "")
        if lane is not None and "tip" in cleaned and cleaned["tip"] < lane.minimum_tip_cents:
            minimum = format_money(lane.minimum_tip_cents, self.queue.tenant.currency)
            self.add_error(
                "tip",
                gettext("The %(lane)s lane needs a tip of at least %(amount)s.")
                % {"lane": lane.name.lower(), "amount": minimum},
            )
        if lane is not None and not lane.enabled:
            self.add_error(
                "lane", gettext("The %(lane)s lane is closed right now.") % {"lane": lane.name.lower()}
            )
        if cleaned.get("tip") and "card" in self.fields and not (cleaned.get("card") or "").strip():
            self.add_error("card", gettext("Enter the card number for your tip."))
        return cleaned

    def chosen_lane(self) -> Lane:
        return self.lanes[self.cleaned_data["lane"]]

    def custom_data(self) -> dict:
        return schema_forms.data_from_cleaned(self.schema, self.cleaned_data)


class TransitionForm(forms.Form):
    event = forms.CharField(max_length=50)
    note = forms.CharField(max_length=2000, required=False, label=_("Reason or note"))
    state = forms.CharField(max_length=50, required=False)


class TicketItemForm(forms.Form):
    """One ticket item, to add or change. ``seen`` is the item's ``updated_at`` as shown (the service
    refuses the change when the item moved since)."""

    name = forms.CharField(max_length=200, label=_("Item"))
    quantity = forms.IntegerField(min_value=1, max_value=10_000, initial=1, label=_("Quantity"))
    notes = forms.CharField(max_length=500, required=False, label=_("Notes"))
    state = forms.ChoiceField(required=False, label=_("Item state"))
    seen = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, item_states: list[str], **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if item_states:
            self.fields["state"].choices = [(state, state.replace("_", " ")) for state in item_states]
        else:
            del self.fields["state"]

    def clean_seen(self):
        text = self.cleaned_data.get("seen") or ""
        if not text:
            return None
        try:
            return datetime.datetime.fromisoformat(text)
        except ValueError:
            raise forms.ValidationError(_("Reload the page and try again.")) from None

    @classmethod
    def for_item(cls, item, *, item_states: list[str], data=None):
        initial = {
            "name": item.name,
            "quantity": item.quantity,
            "notes": item.notes,
            "state": item.state,
            "seen": item.updated_at.isoformat(),
        }
        return cls(data, item_states=item_states, initial=initial, prefix=f"item-{item.pk}")


class FilterForm(forms.Form):
    q = forms.CharField(required=False, label=_("Search"), max_length=100)
    state = forms.ChoiceField(required=False, label=_("State"))
    lane = forms.ChoiceField(required=False, label=_("Lane"))
    assignee = forms.ChoiceField(required=False, label=_("Assigned to"))

    def __init__(self, *args, queue: Queue, lanes, members, **kwargs):
        super().__init__(*args, **kwargs)
        machine = queue.ticket_type.machine
        self.fields["state"].choices = [("", gettext("Any"))] + [
            (s, machine.state_label(s)) for s in machine.states
        ]
        self.fields["lane"].choices = [("", gettext("Any"))] + [(lane.code, lane.name) for lane in lanes]
        self.fields["assignee"].choices = [("", gettext("Anyone")), ("none", gettext("Nobody"))] + [
            (str(m.user_id), m.user.get_full_name()) for m in members
        ]


class QueueSettingsForm(forms.ModelForm):
    class Meta:
        model = Queue
        fields = ["name", "description", "enabled", "is_public", "default_service_minutes", "ttl_minutes"]
        labels = {
            "name": _("Name"),
            "description": _("Description"),
            "enabled": _("Enabled"),
            "is_public": _("Listed on the public page"),
            "default_service_minutes": _("Default minutes per ticket"),
            "ttl_minutes": _("Time limit (minutes)"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        set_range(self.fields["default_service_minutes"], 1, 1440)
        set_range(self.fields["ttl_minutes"], 1, 43200)


class QueueCreateForm(forms.Form):
    name = forms.CharField(max_length=120, label=_("Name"))
    slug = forms.SlugField(
        max_length=60, label=_("Address"), help_text=_("Used in /<your page>/q/<address>/.")
    )
    kind = forms.ChoiceField(choices=QueueKind.choices, label=_("Kind"))
    ticket_type = forms.ModelChoiceField(
        queryset=TicketType.objects.none(),
        required=False,
        label=_("Ticket type"),
        help_text=_("Leave empty to use the system type for the kind."),
    )
    default_service_minutes = forms.IntegerField(
        min_value=1, max_value=1440, required=False, label=_("Default minutes per ticket")
    )

    RESERVED = {"new", "types", "tickets", "attachments"}

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ticket_type"].queryset = TicketType.objects.available_to(tenant)

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if slug in self.RESERVED:
            raise forms.ValidationError(_("This address is reserved; choose another."))
        return slug


class LaneSettingsForm(forms.ModelForm):
    minimum_tip = forms.CharField(max_length=12, required=False, label=_("Minimum tip"))

    class Meta:
        model = Lane
        fields = ["name", "enabled", "weight"]
        labels = {"name": _("Name"), "enabled": _("Enabled"), "weight": _("Weight")}

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        set_range(self.fields["weight"], 1, 100)
        if self.instance.pk and not self.is_bound:
            self.initial["minimum_tip"] = major_text(self.instance.minimum_tip_cents, currency)

    def clean_minimum_tip(self):
        text = (self.cleaned_data.get("minimum_tip") or "0").strip()
        try:
            return parse_money(text, self.currency)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_weight(self):
        weight = self.cleaned_data["weight"]
        if weight < 1:
            raise forms.ValidationError(_("The weight must be at least 1."))
        return weight


TOO_DEEP = _("This JSON is nested too deeply.")


class JSONTextField(forms.CharField):
    """JSON typed as text. Decoding only: the size and depth bounds are the validators' (the workflow
    parser, ``check_schema``), which the service runs on the decoded value."""

    widget = forms.Textarea(attrs={"rows": 12, "class": "code"})

    def prepare_value(self, value):
        if isinstance(value, dict | list):
            return json.dumps(value, indent=2)
        return value

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return {}
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                gettext("Not valid JSON: %(problem)s (line %(line)s).")
                % {"problem": error.msg, "line": error.lineno}
            ) from None
        except RecursionError:  # the decoder recurses: thousands of nested brackets
            raise forms.ValidationError(TOO_DEEP) from None


class BoundedJSONField(forms.JSONField):
    """Django's JSON form field, but text nested deeper than the decoder can recurse is a form error,
    not a 500 (on submit and when the form is shown again with its errors)."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except RecursionError:
            raise forms.ValidationError(TOO_DEEP, code="invalid") from None

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return forms.fields.InvalidJSONInput(data)


class TicketTypeForm(forms.Form):
    code = forms.SlugField(max_length=50, label=_("Code"))
    name = forms.CharField(max_length=100, label=_("Name"))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label=_("Description")
    )
    workflow = JSONTextField(
        label=_("Workflow"),
        help_text=_(
            "init, states, transitions (name/from/to), phases per state; optional labels per language."
        ),
    )
    custom_fields_schema = JSONTextField(required=False, label=_("Custom fields (JSON Schema)"))
    ttl_minutes = forms.IntegerField(
        min_value=1, max_value=43200, required=False, label=_("Time limit (minutes)")
    )
