"""Queues, lanes, ticket types (workflow + custom-field schema), tickets and their history.

Tenancy: every model carries ``tenant``; reads go through ``for_tenant`` / ``get_for_tenant``. Writes go
through ``queues.services`` only. ``Ticket.state`` is a protected FSM field changed by one generic
transition that applies a workflow event; ``ConcurrentTransitionMixin`` makes the save conditional on
the state read, so two concurrent transitions cannot both win.
"""

from __future__ import annotations

import zoneinfo
from functools import cached_property

import django_fsm
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from core.models import TenantManager, TenantOwned, TimeStamped
from queues import workflow as wf
from tenants.models import validate_time_zone

TICKET_SEQUENCE = "queues_ticket_lane_sequence"


class QueueKind(models.TextChoices):
    CREATOR = "creator", _("Creator request queue")
    SERVICE = "service", _("Service queue")
    SUPPORT = "support", _("Support queue")


class Phase(models.TextChoices):
    PENDING = wf.PENDING, _("Awaiting review")
    WAITING = wf.WAITING, _("In line")
    SERVING = wf.SERVING, _("Being served")
    DONE = wf.DONE, _("Done")
    CANCELLED = wf.CANCELLED, _("Closed")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class TicketTypeQuerySet(models.QuerySet):
    def available_to(self, tenant):
        """System types plus the tenant's own."""
        return self.filter(models.Q(tenant__isnull=True) | models.Q(tenant=tenant))


class TicketType(TimeStamped):
    """A kind of ticket: its workflow (data) and the JSON Schema of its custom fields.

    ``tenant`` is null for system types (shipped by migration, read-only for tenants).
    """

    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    code = models.SlugField(max_length=50)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    workflow = models.JSONField(
        help_text=_("States and transitions (javascript-state-machine format) + phases.")
    )
    custom_fields_schema = models.JSONField(
        default=dict, blank=True, help_text=_("JSON Schema (draft 2020-12) of the ticket's custom data.")
    )
    item_states = models.JSONField(
        default=list,
        blank=True,
        help_text=_("States a ticket item can be in; empty means items have no state."),
    )
    ttl_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Tickets of this type waiting longer than this expire.")
    )
    version = models.PositiveIntegerField(default=1)

    objects = TicketTypeQuerySet.as_manager()

    class Meta:
        ordering = ["tenant_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="tickettype_tenant_code_unique"),
            models.UniqueConstraint(
                fields=["code"], condition=models.Q(tenant__isnull=True), name="tickettype_system_code_unique"
            ),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="tickettype_version_positive"),
        ]

    def __str__(self) -> str:
        if self.is_system:
            return gettext("%(name)s (system)") % {"name": self.display_name}
        return f"{self.name} ({self.code})"

    @property
    def is_system(self) -> bool:
        return self.tenant_id is None

    @property
    def display_name(self) -> str:
        """The name as pages show it: a system type's in the active language, a tenant's own as written."""
        if self.is_system and self.code in wf.SYSTEM_TYPE_NAMES:
            return str(wf.SYSTEM_TYPE_NAMES[self.code])
        return self.name

    @cached_property
    def machine(self) -> wf.Workflow:
        return wf.parse_workflow(self.workflow)

    @property
    def state_labels(self) -> list[str]:
        """The states as they read in the active language (tenant text: escaped on output)."""
        return [self.machine.state_label(state) for state in self.machine.states]

    # Checked before Django's own field validation, which serialises the value (json.dumps recurses,
    # so a hostile document nested 10 000 levels deep would raise RecursionError instead of an error).
    def clean_fields(self, exclude=None):
        from queues.schema_forms import MAX_SCHEMA_BYTES, MAX_SCHEMA_DEPTH

        bounds = {
            "workflow": (wf.MAX_WORKFLOW_DEPTH, wf.MAX_WORKFLOW_BYTES),
            "custom_fields_schema": (MAX_SCHEMA_DEPTH, MAX_SCHEMA_BYTES),
            "item_states": (2, 16 * 1024),
        }
        exclude = set(exclude or ())
        errors = {}
        for name, (max_depth, max_bytes) in bounds.items():
            if name not in exclude:
                problem = wf.json_shape_problem(getattr(self, name), max_depth=max_depth, max_bytes=max_bytes)
                if problem:
                    errors[name] = [gettext("This JSON is %(problem)s.") % {"problem": problem}]
        try:
            super().clean_fields(exclude=exclude | set(errors))
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def clean(self):
        from queues.schema_forms import check_schema

        errors = {}
        try:
            wf.parse_workflow(self.workflow)
        except wf.WorkflowError as error:
            errors["workflow"] = error.errors
        try:
            check_schema(self.custom_fields_schema or {})
        except ValueError as error:
            errors["custom_fields_schema"] = [str(error)]
        if not isinstance(self.item_states, list) or not all(isinstance(s, str) for s in self.item_states):
            errors["item_states"] = [gettext("Item states must be a list of names.")]
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        # Validated on every save, whichever path saves it (service, admin, migration).
        self.clean()
        self.__dict__.pop("machine", None)
        super().save(*args, **kwargs)


class Queue(TenantOwned):
    slug = models.SlugField(max_length=60)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=QueueKind.choices, default=QueueKind.SERVICE)
    ticket_type = models.ForeignKey(TicketType, on_delete=models.PROTECT, related_name="queues")
    enabled = models.BooleanField(default=True, help_text=_("Accepts new tickets."))
    is_public = models.BooleanField(default=True, help_text=_("Shown on the tenant's public page."))
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    default_service_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Minutes per ticket used for the ETA until there is history.")
    )
    ttl_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Tickets waiting longer than this expire (optional).")
    )
    # The interleave's phase: index in the lane cycle of the next slot to serve.
    interleave_phase = models.PositiveIntegerField(default=0)
    # Moving average of recent service durations (refreshed on every completion).
    service_seconds_average = models.FloatField(null=True, blank=True)
    service_seconds_spread = models.FloatField(null=True, blank=True)
    service_samples = models.PositiveIntegerField(default=0)
    # ETA recalibration state (``queues.eta``): recent normalised errors and the adaptive miss level.
    eta_calibration = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["tenant_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "slug"], name="queue_tenant_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Lane(TenantOwned):
    """A lane of a queue (priority, personal, …) and its deli counter."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="lanes")
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=200, blank=True)
    display_order = models.PositiveSmallIntegerField(default=0)
    turn_prefix = models.CharField(max_length=3, blank=True, help_text=_("Shown before turn numbers (P-12)."))
    weight = models.PositiveSmallIntegerField(
        default=1, help_text=_("Tickets served per turn of the interleave.")
    )
    minimum_tip_cents = models.PositiveIntegerField(default=0)
    enabled = models.BooleanField(default=True, help_text=_("Accepts new tickets."))
    # Deli counter: the turn number last called, the next number to hand out, and the line length.
    now_serving = models.PositiveIntegerField(null=True, blank=True)
    next_turn = models.PositiveIntegerField(default=1)
    waiting_count = models.PositiveIntegerField(default=0)
    # Incremented on every change of this lane's line, so live watchers can apply changes in order.
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["queue_id", "display_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["queue", "code"], name="lane_queue_code_unique"),
            models.CheckConstraint(condition=models.Q(weight__gte=1), name="lane_weight_positive"),
            models.CheckConstraint(condition=models.Q(next_turn__gte=1), name="lane_next_turn_positive"),
            models.CheckConstraint(
                condition=models.Q(now_serving__isnull=True)
                | models.Q(now_serving__lt=models.F("next_turn")),
                name="lane_now_serving_handed_out",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.queue} · {self.name}"

    @property
    def prefix(self) -> str:
        return self.turn_prefix or (self.code[:1] or "T").upper()


BLOCK_SIZE = 1024  # lane sequences per LaneBlock; changing it needs a rebuild of the blocks


class LaneBlock(models.Model):
    """Waiting tickets of a lane per block of BLOCK_SIZE lane sequences.

    A lane rank is then the sum of the (few hundred at most) blocks before the ticket's block plus one
    bounded count inside its block — O(n / BLOCK_SIZE + BLOCK_SIZE) instead of counting every ticket ahead.
    Maintained by the services in the same statement sequence as the lane counter (after the lane row).
    """

    lane = models.ForeignKey(Lane, on_delete=models.CASCADE, related_name="blocks")
    block = models.BigIntegerField()
    waiting = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["lane_id", "block"]
        constraints = [
            models.UniqueConstraint(fields=["lane", "block"], name="laneblock_lane_block_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.lane_id}/{self.block}: {self.waiting}"


class TicketQuerySet(models.QuerySet):
    def for_tenant(self, tenant):
        if tenant is None:
            raise ValueError("for_tenant() needs a tenant")
        return self.filter(tenant=tenant)

    def waiting(self):
        return self.filter(phase=Phase.WAITING)


class Ticket(django_fsm.ConcurrentTransitionMixin, TenantOwned):
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="tickets")
    lane = models.ForeignKey(Lane, on_delete=models.PROTECT, related_name="tickets")
    ticket_type = models.ForeignKey(TicketType, on_delete=models.PROTECT, related_name="tickets")
    state = django_fsm.FSMField(max_length=50, protected=True)
    phase = models.CharField(max_length=10, choices=Phase.choices)
    reference = models.CharField(max_length=15, unique=True)
    submission_token = models.CharField(max_length=64, blank=True)
    customer = models.ForeignKey(
        "tenants.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="queue_tickets"
    )
    # The contact as this submission typed it: staff see what was submitted on this ticket, whatever the
    # shared customer record (found by email) says now or later.
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=200, blank=True)
    need_text = models.TextField(blank=True, help_text=_("What the person asks for (the description)."))
    custom_data = models.JSONField(default=dict, blank=True)
    tip_cents = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default="USD")
    email_consent = models.BooleanField(default=False)
    # Order within a lane = submission order; kept when the ticket changes lane.
    lane_sequence = models.BigIntegerField(
        db_default=models.Func(
            models.Value(TICKET_SEQUENCE), function="nextval", output_field=models.BigIntegerField()
        )
    )
    turn_number = models.PositiveIntegerField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(db_default=Now())
    approved_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Help-desk fields (used by the support app).
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    location = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    last_escalated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager.from_queryset(TicketQuerySet)()

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "submission_token"],
                condition=~models.Q(submission_token=""),
                name="ticket_submission_token_unique",
            ),
            models.CheckConstraint(condition=models.Q(phase__in=Phase.values), name="ticket_phase_valid"),
            models.CheckConstraint(
                condition=models.Q(priority__in=Priority.values), name="ticket_priority_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(turn_number__gte=1), name="ticket_turn_number_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="ticket_currency_iso"
            ),
            models.CheckConstraint(
                condition=models.Q(completed_at__isnull=True)
                | models.Q(completed_at__gte=models.F("submitted_at")),
                name="ticket_completed_after_submitted",
            ),
        ]
        indexes = [
            models.Index(fields=["queue", "state", "submitted_at"], name="ticket_queue_state_submitted"),
            models.Index(fields=["assignee", "state"], name="ticket_assignee_state"),
            models.Index(fields=["queue", "phase", "submitted_at"], name="ticket_queue_phase_submitted"),
            # Lane ranks and the head of each lane: an index-only count / ordered scan.
            models.Index(
                fields=["lane", "lane_sequence"],
                condition=models.Q(phase=wf.WAITING),
                name="ticket_lane_waiting_sequence",
            ),
            models.Index(
                fields=["expires_at"],
                condition=models.Q(phase__in=[wf.PENDING, wf.WAITING], expires_at__isnull=False),
                name="ticket_expiry_due",
            ),
            models.Index(fields=["queue", "completed_at"], name="ticket_queue_completed"),
            models.Index(fields=["tenant", "submitted_at"], name="ticket_tenant_submitted"),
            GinIndex(fields=["custom_data"], name="ticket_custom_data_gin"),
            GinIndex(fields=["metadata"], name="ticket_metadata_gin"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def custom_rows(self) -> list[tuple[str, str]]:
        """The custom data as pages show it: (the field's title, the value), in the active language for a
        system type (``schema_forms.data_rows``)."""
        from queues.schema_forms import data_rows

        return data_rows(
            self.ticket_type.custom_fields_schema or {},
            self.custom_data or {},
            system=self.ticket_type.is_system,
        )

    @django_fsm.transition(
        field=state,
        source="*",
        target=django_fsm.GET_STATE(lambda ticket, event, *args, **kwargs: ticket._target_of(event)),
    )
    def apply_event(self, event: str) -> None:
        """The one generic transition: applies workflow ``event`` (raises if the workflow forbids it)."""
        self._target_of(event)

    def _target_of(self, event: str) -> str:
        from core.errors import InvalidTransition

        transition = self.ticket_type.machine.find(self.state, event)
        if transition is None:
            raise InvalidTransition(
                gettext("“%(action)s” is not allowed for a ticket that is %(state)s.")
                % {"action": self.machine.transition_label(event), "state": self.state_label}
            )
        return transition.target

    @property
    def machine(self) -> wf.Workflow:
        return self.ticket_type.machine

    def is_expired(self, now) -> bool:
        return (
            self.expires_at is not None and self.expires_at < now and self.phase in (wf.PENDING, wf.WAITING)
        )

    @property
    def turn_label(self) -> str:
        return f"{self.lane.prefix}-{self.turn_number}" if self.turn_number else ""

    @property
    def state_label(self) -> str:
        """The state as its type labels it in the active language (tenant text: escaped on output)."""
        return self.machine.state_label(self.state)

    @property
    def contact(self):
        """The contact this ticket was submitted with (``queues.selectors.Person``): what staff see."""
        from queues.selectors import Person

        return Person(self.contact_name, self.contact_email, self.contact_phone)


class TicketItem(TenantOwned):
    """A component of a ticket (a line of an order, a part of a request)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="items")
    name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField(default=1)
    notes = models.CharField(max_length=500, blank=True)
    state = models.CharField(max_length=50, blank=True, help_text=_("One of the type's item states, if any."))

    class Meta:
        ordering = ["ticket_id", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="ticketitem_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.name}"


def event_words(event: str, machine: wf.Workflow) -> str:
    """A history row's event in words: the service's own events (submission, lane change, assignment)
    from the catalog, a workflow transition by its label."""
    own = {
        "submit": pgettext("ticket history", "submitted"),
        "change_lane": pgettext("ticket history", "lane changed"),
        "assign": pgettext("ticket history", "assigned"),
    }
    return own[event] if event in own else machine.transition_label(event)


class TicketEvent(models.Model):
    """The audit trail: one row per transition (and per lane change, assignment, submission)."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    event = models.CharField(max_length=50)
    from_state = models.CharField(max_length=50, blank=True)
    to_state = models.CharField(max_length=50, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=100, blank=True, help_text=_("Who, when not a member."))
    note = models.TextField(blank=True)
    occurred_at = models.DateTimeField()
    # The ticket's lane after the event (so the served order can be replayed: ``queues.served_order``);
    # null on rows written before it was kept. No index: only the export reads it, by ticket.
    lane = models.ForeignKey(
        Lane, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    objects = TenantManager()

    class Meta:
        ordering = ["ticket_id", "occurred_at", "id"]
        indexes = [models.Index(fields=["ticket", "occurred_at"], name="ticketevent_ticket_time")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.event} {self.from_state}→{self.to_state}"

    @property
    def event_words(self) -> str:
        """What happened, in the active language: the transition's label (its type may label it per
        language), or the words of the service's own events."""
        return event_words(self.event, self.ticket.machine)

    @property
    def actor_words(self) -> str:
        """Who acted when not a member: the service's own labels in the active language."""
        own = {"customer": _("customer"), "system": _("system"), "operator": _("operator")}
        return str(own.get(self.actor_label, self.actor_label))

    @property
    def to_words(self) -> str:
        return self.ticket.machine.state_label(self.to_state)


class TicketComment(TenantOwned):
    """A public or internal comment on a ticket, by a member or by the customer."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments")
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_customer = models.ForeignKey(
        "tenants.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    is_internal = models.BooleanField(default=False, help_text=_("Only members see internal comments."))
    edited_at = models.DateTimeField(null=True, blank=True)
    edit_history = models.JSONField(default=list, blank=True, help_text=_("Earlier bodies with their times."))

    class Meta:
        ordering = ["ticket_id", "created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticketcomment_ticket_time")]
        constraints = [
            models.CheckConstraint(
                condition=~(models.Q(author_user__isnull=False) & models.Q(author_customer__isnull=False)),
                name="ticketcomment_one_author",
            ),
            models.CheckConstraint(
                condition=~(models.Q(is_internal=True) & models.Q(author_customer__isnull=False)),
                name="ticketcomment_customer_not_internal",
            ),
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.ticket_id}"


def attachment_path(instance, filename: str) -> str:
    from core.references import new_token

    return f"queues/{instance.tenant_id}/{new_token(12)}/{filename[-100:]}"


class TicketAttachment(TenantOwned):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(
        TicketComment, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=255)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size_bytes = models.PositiveIntegerField()

    class Meta:
        ordering = ["ticket_id", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(size_bytes__gte=1), name="ticketattachment_not_empty"),
        ]

    def __str__(self) -> str:
        return self.original_name


class EtaScope(models.TextChoices):
    QUEUE = "queue", _("Queue")
    ROOM = "room", _("Waiting room")


class EtaOutcome(models.TextChoices):
    PENDING = "pending", _("Not served yet")
    HIT = "hit", _("Served inside the range")
    MISS = "miss", _("Served outside the range")
    DROPPED = "dropped", _("Left without being served")


class EtaForecast(TenantOwned):
    """One ETA range shown to one person (a queue ticket or a waiting-room entry) at one position, and
    how it turned out. Written by ``queues.accuracy`` only (from the "shown" buffer), scored when the
    person is served: a queue ticket when it starts being served, a waiting-room entry when admitted."""

    scope = models.CharField(max_length=5, choices=EtaScope.choices)
    scope_id = models.BigIntegerField(help_text=_("The queue's or the waiting room's event id."))
    item_id = models.BigIntegerField(help_text=_("The ticket's or the entry's id."))
    shown_at = models.DateTimeField()
    position = models.PositiveIntegerField()
    centre_seconds = models.FloatField()
    scale_seconds = models.FloatField()
    low_seconds = models.FloatField()
    high_seconds = models.FloatField()
    calibrated = models.BooleanField(default=False)
    outcome = models.CharField(max_length=7, choices=EtaOutcome.choices, default=EtaOutcome.PENDING)
    served_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["shown_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(low_seconds__gte=0) & models.Q(high_seconds__gte=models.F("low_seconds")),
                name="etaforecast_range_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=EtaOutcome.values), name="etaforecast_outcome_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["scope", "scope_id", "item_id"],
                condition=models.Q(outcome="pending"),
                name="etaforecast_pending",
            ),
            models.Index(fields=["scope", "scope_id", "served_at"], name="etaforecast_scored"),
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.scope_id} #{self.item_id} @ {self.position} ({self.outcome})"
