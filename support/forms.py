"""Help-desk forms. They collect and tidy input; the services decide and re-check everything."""

from __future__ import annotations

from datetime import date, time

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.references import new_token
from queues import schema_forms
from queues.forms import MultipleFileField
from queues.models import Priority, Queue
from support.models import AssignmentMode, SupportQueue

PUBLIC_PRIORITIES = [
    (Priority.LOW, _("Low — whenever you can")),
    (Priority.NORMAL, _("Normal")),
    (Priority.HIGH, _("High — it blocks my work")),
]


def _attachments_help() -> str:
    limit = settings.UPLOAD_MAX_BYTES // (1024 * 1024) or 1
    return gettext("Up to 3 files, %(limit)s MB each: images (JPEG, PNG, GIF, WebP), PDF, text or MP3.") % {
        "limit": limit
    }


class SupportTicketForm(forms.Form):
    """The public help-desk form of one support queue; the type's custom fields come from its schema."""

    submission_token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    name = forms.CharField(max_length=200, label=_("Your name"))
    email = forms.EmailField(label=_("Email"), help_text=_("We write to you here only about this ticket."))
    title = forms.CharField(max_length=200, label=_("Short summary"))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), max_length=8000, label=_("Describe the problem")
    )
    priority = forms.ChoiceField(
        choices=PUBLIC_PRIORITIES, initial=Priority.NORMAL, label=_("How urgent is it?")
    )
    location = forms.CharField(max_length=200, required=False, label=_("Where? (building, room — optional)"))
    attachments = MultipleFileField(required=False, label=_("Attachments (optional)"))
    email_consent = forms.BooleanField(required=False, label=_("Email me when the team replies"))

    def __init__(self, *args, queue: Queue, user=None, subcategories=(), **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if subcategories:
            # The customer picked the category (this queue) on the help-desk page; now its subcategory.
            self.fields["subcategory"] = forms.ChoiceField(
                choices=[("", "—")] + [(row.name, row.name) for row in subcategories],
                label=_("What is it about?"),
            )
            self.order_fields(["submission_token", "name", "email", "subcategory"])
        self.schema = queue.ticket_type.custom_fields_schema or {}
        self.fields["attachments"].help_text = _attachments_help()
        self.fields.update(schema_forms.form_fields(self.schema, system=queue.ticket_type.is_system))
        if not self.is_bound:
            self.initial.setdefault("submission_token", new_token(24))
            if user is not None and user.is_authenticated:
                self.initial.setdefault("name", user.get_full_name())
                self.initial.setdefault("email", user.email)

    def custom_data(self) -> dict:
        return schema_forms.data_from_cleaned(self.schema, self.cleaned_data)


class StaffCommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=8000, label=_("Reply"))
    visibility = forms.ChoiceField(
        choices=[
            ("public", _("Public reply (the customer sees it and is emailed)")),
            ("internal", _("Internal note (team only)")),
        ],
        initial="public",
        widget=forms.RadioSelect,
        label=_("Who sees it"),
    )
    attachments = MultipleFileField(required=False, label=_("Attachments (optional)"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = _attachments_help()


class CustomerReplyForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=8000, label=_("Your reply"))
    attachments = MultipleFileField(required=False, label=_("Attachments (optional)"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = _attachments_help()


class EditCommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=8000, label=_("Edit"))


def _parse_time(text: str, *, closing: bool = False) -> time:
    text = text.strip()
    if closing and text in ("24:00", "24"):
        return time(0)
    hours, _colon, minutes = text.partition(":")
    return time(int(hours), int(minutes or 0))


# Turnarounds and windows are business minutes; 30 days of them is past any real help desk's promise, and
# bounding them keeps due-time arithmetic and the integer columns in range.
MAX_MINUTES = 30 * 24 * 60


class SupportSettingsForm(forms.Form):
    """A support queue's rules. Hours: one line per interval, e.g. ``Mon-Fri 09:00-17:00`` or
    ``Sat 10:00-14:00``; holidays: ``2026-12-25 Christmas``; agents: chosen per member below."""

    assignment_mode = forms.ChoiceField(choices=AssignmentMode.choices, label=_("New tickets go to"))
    default_turnaround_minutes = forms.IntegerField(
        min_value=1, max_value=MAX_MINUTES, label=_("Turnaround (business minutes)")
    )
    turnaround_low = forms.IntegerField(
        min_value=1, max_value=MAX_MINUTES, required=False, label=_("Low priority")
    )
    turnaround_normal = forms.IntegerField(
        min_value=1, max_value=MAX_MINUTES, required=False, label=_("Normal priority")
    )
    turnaround_high = forms.IntegerField(
        min_value=1, max_value=MAX_MINUTES, required=False, label=_("High priority")
    )
    turnaround_urgent = forms.IntegerField(
        min_value=1, max_value=MAX_MINUTES, required=False, label=_("Urgent priority")
    )
    second_escalation_minutes = forms.IntegerField(
        min_value=1, max_value=MAX_MINUTES, label=_("Level 2 (owner) after, business minutes past due")
    )
    due_soon_minutes = forms.IntegerField(
        min_value=0, max_value=MAX_MINUTES, label=_("'Due soon' window (minutes)")
    )
    hours = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label=_("Business hours (queue time zone)"),
        help_text=_(
            "One per line, e.g. “Mon-Fri 09:00-17:00”, “Sat 10:00-14:00”. Empty: open around the clock."
        ),
    )
    holidays = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label=_("Holidays"),
        help_text=_("One per line: “2026-12-25 Christmas”."),
    )
    escalation_manager = forms.ChoiceField(required=False, label=_("Level 1 goes to"))
    escalation_owner = forms.ChoiceField(required=False, label=_("Level 2 goes to"))

    # The hours syntax is English whatever the page's language (as in the help text): Mon … Sun.
    DAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    DAY_NAMES = {name.lower(): value for value, name in enumerate(DAY_ABBREVIATIONS)}

    def __init__(self, *args, members, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        people = [(str(m.user_id), f"{m.user.get_full_name()} ({m.get_role_display()})") for m in members]
        self.fields["escalation_manager"].choices = [("", gettext("The first manager"))] + people
        self.fields["escalation_owner"].choices = [("", gettext("The first owner"))] + people

    @classmethod
    def initial_for(cls, support_queue: SupportQueue) -> dict:
        initial = {
            "assignment_mode": support_queue.assignment_mode,
            "default_turnaround_minutes": support_queue.default_turnaround_minutes,
            "second_escalation_minutes": support_queue.second_escalation_minutes,
            "due_soon_minutes": support_queue.due_soon_minutes,
            "escalation_manager": support_queue.escalation_manager_id or "",
            "escalation_owner": support_queue.escalation_owner_id or "",
        }
        if support_queue.pk is None:
            return initial
        for row in support_queue.turnarounds.all():
            initial[f"turnaround_{row.priority}"] = row.business_minutes
        lines = []
        for row in support_queue.hours.all():
            closes = "24:00" if row.closes == time(0) else row.closes.strftime("%H:%M")
            lines.append(f"{cls.DAY_ABBREVIATIONS[row.weekday]} {row.opens:%H:%M}-{closes}")
        initial["hours"] = "\n".join(lines)
        initial["holidays"] = "\n".join(
            f"{row.date.isoformat()} {row.name}" for row in support_queue.holidays.all()
        )
        return initial

    def clean_hours(self) -> list[tuple[int, time, time]]:
        result = []
        for number, line in enumerate(self.cleaned_data["hours"].splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            try:
                days_text, span = line.split()
                opens_text, closes_text = span.split("-")
                first, _dash, last = days_text.lower().partition("-")
                start, end = self.DAY_NAMES[first[:3]], self.DAY_NAMES[(last or first)[:3]]
                opens, closes = _parse_time(opens_text), _parse_time(closes_text, closing=True)
            except (ValueError, KeyError):
                raise forms.ValidationError(
                    gettext("Line %(number)s: write it like “Mon-Fri 09:00-17:00”.") % {"number": number}
                ) from None
            if end < start:
                raise forms.ValidationError(
                    gettext("Line %(number)s: the days run backwards.") % {"number": number}
                )
            result.extend((day, opens, closes) for day in range(start, end + 1))
        return result

    def clean_holidays(self) -> list[tuple[date, str]]:
        result = []
        for number, line in enumerate(self.cleaned_data["holidays"].splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            day_text, _space, name = line.partition(" ")
            try:
                day = date.fromisoformat(day_text)
            except ValueError:
                raise forms.ValidationError(
                    gettext("Line %(number)s: start with a date like 2026-12-25.") % {"number": number}
                ) from None
            result.append((day, name.strip() or gettext("Holiday")))
        return result

    def turnarounds(self) -> dict[str, int]:
        return {
            p: self.cleaned_data[f"turnaround_{p}"]
            for p in Priority.values
            if self.cleaned_data.get(f"turnaround_{p}")
        }


class SubcategoriesForm(forms.Form):
    """A support queue's subcategories, one per line, in order; ``Name -> someone@example.com`` routes
    that subcategory's tickets to that person."""

    subcategories = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        max_length=20_000,
        label=_("Subcategories"),
        help_text=_(
            "One per line, in the order customers see them, e.g. “Printer” or “Printer -> ana@example.com” "
            "to send its tickets to that person. Empty: no subcategories."
        ),
    )

    def __init__(self, *args, members, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.people = {m.user.email.casefold(): m.user_id for m in members}

    @classmethod
    def initial_for(cls, rows) -> dict:
        lines = [f"{row.name} -> {row.route_to.email}" if row.route_to_id else row.name for row in rows]
        return {"subcategories": "\n".join(lines)}

    def clean_subcategories(self):
        from support.subcategories import SubcategorySpec

        specs, problems = [], []
        for number, line in enumerate(self.cleaned_data["subcategories"].splitlines(), start=1):
            if not line.strip():
                continue
            name, arrow, email = line.partition("->")
            route_to = None
            if arrow:
                route_to = self.people.get(email.strip().casefold())
                if route_to is None:
                    problems.append(
                        _("Line %(n)s: %(email)s is not on this team.")
                        % {"n": number, "email": email.strip()}
                    )
            specs.append(SubcategorySpec(name=name.strip(), route_to_id=route_to))
        if problems:
            raise forms.ValidationError(problems)
        return specs
