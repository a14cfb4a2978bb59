"""Help-desk settings and clocks around the queues app's tickets.

A support queue is a ``queues.Queue`` of kind ``support``; :class:`SupportQueue` holds what only the help
desk needs: assignment rules, turnaround times (TAT) per priority, the escalation chain, business hours
and holidays in the queue's time zone. :class:`SupportAgent` rows are both the assignment rotation and
the queue-scoped role: a member with the tenant role *staff* sees only the support queues where they are
an agent (managers and owners see every support queue).

:class:`SupportTicket` is the support clock of one ticket (its due time lives on ``Ticket.due_at``): the
turnaround snapshot, the time paused while waiting on the customer, and the next escalation deadline.
:class:`Escalation` records each escalation; ``(ticket, cycle, level)`` is unique, so one breach is
escalated at most once whatever runs concurrently.

Writes go through ``support.services`` (and the receivers that keep the clock in step with the queues
services). Every model carries ``tenant``.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import TenantOwned
from queues.models import Priority
from support.business_hours import Schedule

MAX_ESCALATION_LEVEL = 2


class AssignmentMode(models.TextChoices):
    PRIMARY = "primary", _("Primary agent first (then the priority order)")
    LEAST_LOADED = "least_loaded", _("Least-loaded agent (ties: priority order)")
    MANUAL = "manual", _("Nobody automatically (staff pick)")


class SupportQueue(TenantOwned):
    queue = models.OneToOneField("queues.Queue", on_delete=models.CASCADE, related_name="support")
    assignment_mode = models.CharField(
        max_length=20, choices=AssignmentMode.choices, default=AssignmentMode.LEAST_LOADED
    )
    default_turnaround_minutes = models.PositiveIntegerField(
        default=480, help_text=_("Business minutes to resolve, when the priority has no own turnaround.")
    )
    second_escalation_minutes = models.PositiveIntegerField(
        default=240, help_text=_("Business minutes past the due time before level 2 (owner).")
    )
    due_soon_minutes = models.PositiveIntegerField(
        default=120, help_text=_("A ticket is 'due soon' this many minutes before its due time.")
    )
    escalation_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Level 1. Empty: the first manager of the team (else an owner)."),
    )
    escalation_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Level 2. Empty: the first owner of the team."),
    )

    class Meta:
        ordering = ["tenant_id", "queue__name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(assignment_mode__in=AssignmentMode.values), name="supportqueue_mode_valid"
            ),
            models.CheckConstraint(
                condition=Q(default_turnaround_minutes__gte=1), name="supportqueue_turnaround_positive"
            ),
            models.CheckConstraint(
                condition=Q(second_escalation_minutes__gte=1), name="supportqueue_second_step_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Support settings · {self.queue}"

    def turnaround_for(self, priority: str) -> int:
        if self.pk is None:  # defaults, not saved yet (see selectors.settings_for)
            return self.default_turnaround_minutes
        for row in self.turnarounds.all():
            if row.priority == priority:
                return row.business_minutes
        return self.default_turnaround_minutes

    def schedule(self) -> Schedule:
        """The queue's business hours and holidays (uses prefetched ``hours`` / ``holidays`` if any)."""
        hours: dict[int, list[tuple[time, time]]] = {}
        if self.pk is None:
            return Schedule(zone=self.queue.zone)
        for row in self.hours.all():
            hours.setdefault(row.weekday, []).append((row.opens, row.closes))
        return Schedule(
            zone=self.queue.zone,
            hours={day: tuple(spans) for day, spans in hours.items()},
            holidays=frozenset(row.date for row in self.holidays.all()),
        )


class Turnaround(TenantOwned):
    support_queue = models.ForeignKey(SupportQueue, on_delete=models.CASCADE, related_name="turnarounds")
    priority = models.CharField(max_length=10, choices=Priority.choices)
    business_minutes = models.PositiveIntegerField()

    class Meta:
        ordering = ["support_queue_id", "business_minutes"]
        constraints = [
            models.UniqueConstraint(
                fields=["support_queue", "priority"], name="turnaround_queue_priority_unique"
            ),
            models.CheckConstraint(
                condition=Q(priority__in=Priority.values), name="turnaround_priority_valid"
            ),
            models.CheckConstraint(condition=Q(business_minutes__gte=1), name="turnaround_minutes_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_priority_display()}: {self.business_minutes} min"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class BusinessHours(TenantOwned):
    """One opening interval of a weekday, in the queue's local time. ``closes`` 00:00 means midnight."""

    support_queue = models.ForeignKey(SupportQueue, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["support_queue_id", "weekday", "opens"]
        verbose_name_plural = "business hours"
        constraints = [
            models.UniqueConstraint(
                fields=["support_queue", "weekday", "opens"], name="businesshours_queue_day_opens_unique"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="businesshours_weekday_valid"),
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")) | Q(closes=time(0)),
                name="businesshours_closes_after_opens",
            ),
        ]

    def __str__(self) -> str:
        closes = "24:00" if self.closes == time(0) else self.closes.strftime("%H:%M")
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{closes}"


class Holiday(TenantOwned):
    support_queue = models.ForeignKey(SupportQueue, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["support_queue_id", "date"]
        constraints = [
            models.UniqueConstraint(fields=["support_queue", "date"], name="holiday_queue_date_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.name}"


class SupportAgent(TenantOwned):
    """A member assigned to a support queue: sees it (queue-scoped role) and takes its tickets."""

    support_queue = models.ForeignKey(SupportQueue, on_delete=models.CASCADE, related_name="agents")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="support_agents"
    )
    is_primary = models.BooleanField(default=False)
    priority = models.PositiveSmallIntegerField(default=10, help_text=_("Lower goes first."))
    receives_assignments = models.BooleanField(
        default=True, help_text=_("Off: sees and works the queue but gets no automatic assignments.")
    )

    class Meta:
        ordering = ["support_queue_id", "-is_primary", "priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["support_queue", "user"], name="supportagent_queue_user_unique"),
            models.UniqueConstraint(
                fields=["support_queue"], condition=Q(is_primary=True), name="supportagent_one_primary"
            ),
        ]
        indexes = [models.Index(fields=["user", "support_queue"], name="supportagent_user_queue")]

    def __str__(self) -> str:
        return f"{self.user} in {self.support_queue.queue}" + (" (primary)" if self.is_primary else "")


class SupportTicket(TenantOwned):
    """The support clock of one ticket. ``Ticket.due_at`` is null while the clock is paused."""

    ticket = models.OneToOneField("queues.Ticket", on_delete=models.CASCADE, related_name="support_clock")
    support_queue = models.ForeignKey(SupportQueue, on_delete=models.CASCADE, related_name="clocks")
    turnaround_minutes = models.PositiveIntegerField(help_text=_("Snapshot at submission (or reopening)."))
    first_due_at = models.DateTimeField(help_text=_("The due time first promised."))
    # Incremented when a resolved ticket is reopened: escalations count again from level 1.
    cycle = models.PositiveSmallIntegerField(default=1)
    next_escalation_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    due_at_when_paused = models.DateTimeField(null=True, blank=True)
    paused_business_seconds = models.PositiveBigIntegerField(
        default=0, help_text=_("Business time spent waiting on the customer (added to the due time).")
    )
    paused_seconds = models.PositiveBigIntegerField(default=0, help_text=_("Wall-clock time paused."))
    breached_at = models.DateTimeField(null=True, blank=True, help_text=_("First found past due."))

    class Meta:
        ordering = ["ticket_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(paused_at__isnull=True, due_at_when_paused__isnull=True)
                | Q(paused_at__isnull=False, due_at_when_paused__isnull=False),
                name="supportticket_pause_complete",
            ),
            models.CheckConstraint(
                condition=Q(paused_at__isnull=True) | Q(next_escalation_at__isnull=True),
                name="supportticket_paused_never_escalates",
            ),
            models.CheckConstraint(condition=Q(cycle__gte=1), name="supportticket_cycle_positive"),
        ]
        indexes = [
            models.Index(
                fields=["next_escalation_at"],
                condition=Q(next_escalation_at__isnull=False),
                name="supportticket_escalation_due",
            ),
        ]

    def __str__(self) -> str:
        return f"Clock of ticket {self.ticket_id}"

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def paused_business_hours(self) -> float:
        return self.paused_business_seconds / 3600


class Escalation(TenantOwned):
    ticket = models.ForeignKey("queues.Ticket", on_delete=models.CASCADE, related_name="escalations")
    cycle = models.PositiveSmallIntegerField(default=1)
    level = models.PositiveSmallIntegerField()
    breached_deadline = models.DateTimeField(help_text=_("The deadline that was missed."))
    escalated_at = models.DateTimeField()
    from_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The agent who escalated by hand; empty for an automatic escalation."),
    )
    reason = models.TextField(blank=True, help_text=_("Why an agent escalated by hand."))

    class Meta:
        ordering = ["ticket_id", "escalated_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "cycle", "level"], name="escalation_once_per_level"),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=MAX_ESCALATION_LEVEL), name="escalation_level_valid"
            ),
        ]
        indexes = [models.Index(fields=["ticket", "escalated_at"], name="escalation_ticket_time")]

    def __str__(self) -> str:
        return f"Ticket {self.ticket_id} → level {self.level}"


class Subcategory(TenantOwned):
    """A subcategory of a support queue (the queue is the help desk's category): the customer picks the
    queue, then one of its subcategories; the ticket keeps the name in ``Ticket.metadata["subcategory"]``
    (so inbox filters use the metadata GIN index, and a later rename or removal leaves filed tickets as
    they were filed). ``route_to`` is a routing rule: its tickets go to that person instead of the queue's
    assignment rule (when they still may take the queue's tickets). Written by ``support.subcategories``."""

    support_queue = models.ForeignKey(SupportQueue, on_delete=models.CASCADE, related_name="subcategories")
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)
    route_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Tickets of this subcategory go to this person (else the queue's assignment rule)."),
    )

    class Meta:
        ordering = ["support_queue_id", "position", "id"]
        verbose_name_plural = "subcategories"
        constraints = [
            models.UniqueConstraint(fields=["support_queue", "name"], name="subcategory_queue_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name
