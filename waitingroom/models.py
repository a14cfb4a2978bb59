"""Virtual waiting room for high-demand on-sales.

``WaitingRoom`` holds one event's waiting-room settings (the checkout limit itself is the event's:
``Event.checkout_limit``; the switch is ``Event.waiting_room_enabled``). ``WaitingRoomEntry`` is one
person's place in line.

Invariants the database holds:
- one LIVE entry (waiting or admitted) per person and event — partial unique indexes, one for signed-in
  users and one for customers (verified by an email link); exactly one of the two is set;
- numbers are unique per event. They come from a PostgreSQL sequence (``waitingroom_entry_number``,
  ``db_default=nextval(...)``), never from a counter row every join would lock; gaps are fine. People
  shuffled out of the pre-queue at opening get negative numbers (−k … −1), so they come before everyone
  who arrived after opening (positive sequence numbers) without renumbering anyone.
- position = waiting entries with a smaller number: an index-only count over the partial index
  ``wr_entry_waiting_number``.
"""

from __future__ import annotations

import django_fsm
from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KT
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import TenantOwned
from core.references import new_reference, new_token

NUMBER_SEQUENCE = "waitingroom_entry_number"


class WaitingRoom(TenantOwned):
    event = models.OneToOneField("ticketing.Event", on_delete=models.CASCADE, related_name="waiting_room")
    opens_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When admission starts. Empty: the event's sale start (or now)."),
    )
    admission_minutes = models.PositiveIntegerField(
        default=10, help_text=_("How long an admitted person has to start checkout.")
    )
    unseen_minutes = models.PositiveIntegerField(
        default=30, help_text=_("A waiting person not seen for this long loses their place.")
    )
    cooldown_minutes = models.PositiveIntegerField(
        default=60, help_text=_("After leaving on purpose, how long before one can join again.")
    )
    prequeue_shuffle = models.BooleanField(
        default=True, help_text=_("Put people who arrive before opening in a random order at opening.")
    )
    admission_paused = models.BooleanField(default=False)
    # Commit and reveal (``waitingroom.fairness``): the seed is chosen when the room is set up and kept
    # secret until the draw; its commitment is public from the start and is line 0 of the admission log.
    draw_seed = models.CharField(max_length=64, blank=True, editable=False)
    draw_commitment = models.CharField(max_length=64, blank=True, editable=False)
    committed_at = models.DateTimeField(null=True, blank=True, editable=False)
    shuffled_at = models.DateTimeField(null=True, blank=True, editable=False)
    shuffled_count = models.PositiveIntegerField(default=0, editable=False)
    sold_out_since = models.DateTimeField(null=True, blank=True, editable=False)
    # ETA recalibration state for the place pages (``queues.eta``).
    eta_calibration = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(admission_minutes__gte=1), name="wr_admission_minutes_positive"
            ),
            models.CheckConstraint(condition=Q(unseen_minutes__gte=1), name="wr_unseen_minutes_positive"),
            models.CheckConstraint(condition=Q(cooldown_minutes__gte=0), name="wr_cooldown_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Waiting room · {self.event}"

    @property
    def revealed_seed(self) -> str:
        """The seed, once the draw has made it public ("" before)."""
        return self.draw_seed if self.shuffled_at is not None else ""

    def effective_opens_at(self):
        return self.opens_at or self.event.sale_starts_at


class EntryStatus(models.TextChoices):
    WAITING = "waiting", pgettext_lazy("waiting-room status", "Waiting")
    ADMITTED = "admitted", pgettext_lazy("waiting-room status", "Admitted")
    COMPLETED = "completed", pgettext_lazy("waiting-room status", "Completed")
    EXPIRED = "expired", pgettext_lazy("waiting-room status", "Expired")
    LEFT = "left", pgettext_lazy("waiting-room status", "Left")


LIVE_STATUSES = (EntryStatus.WAITING, EntryStatus.ADMITTED)


class WaitingRoomEntry(django_fsm.ConcurrentTransitionMixin, TenantOwned):
    event = models.ForeignKey(
        "ticketing.Event", on_delete=models.CASCADE, related_name="waiting_room_entries"
    )
    user = models.ForeignKey(
        "tenants.User", null=True, blank=True, on_delete=models.CASCADE, related_name="waiting_room_entries"
    )
    customer = models.ForeignKey(
        "tenants.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="waiting_room_entries",
    )
    token = models.CharField(max_length=40, unique=True, default=new_token, editable=False)
    # The browser that holds this place (its Django session key, ``core.holders``): the place page, its
    # polls and socket, leaving and the admission it hands out work only there (or for the signed-in
    # ``user``). Empty for places taken through the API.
    holder_key = models.CharField(max_length=64, blank=True, editable=False)
    # The pseudonymous id in the public admission log (the token is secret: it opens the place page).
    public_id = models.CharField(max_length=20, unique=True, default=new_reference, editable=False)
    number = models.BigIntegerField(
        db_default=models.Func(
            models.Value(NUMBER_SEQUENCE), function="nextval", output_field=models.BigIntegerField()
        ),
        editable=False,
    )
    prequeue = models.BooleanField(default=False, help_text=_("Joined before opening (part of the draw)."))
    status = django_fsm.FSMField(default=EntryStatus.WAITING, choices=EntryStatus.choices, protected=True)
    joined_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    admitted_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text=_("Admission valid until."))
    ended_at = models.DateTimeField(null=True, blank=True)
    cooldown_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["event", "number"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(customer__isnull=True))
                | (Q(user__isnull=True) & Q(customer__isnull=False)),
                name="wr_entry_one_person",
            ),
            models.UniqueConstraint(fields=["event", "number"], name="wr_entry_event_number_unique"),
            models.UniqueConstraint(
                fields=["event", "user"],
                condition=Q(status__in=["waiting", "admitted"]) & Q(user__isnull=False),
                name="wr_entry_one_live_per_user",
            ),
            models.UniqueConstraint(
                fields=["event", "customer"],
                condition=Q(status__in=["waiting", "admitted"]) & Q(customer__isnull=False),
                name="wr_entry_one_live_per_customer",
            ),
            models.CheckConstraint(
                condition=~Q(status="admitted")
                | (Q(admitted_at__isnull=False) & Q(expires_at__isnull=False)),
                name="wr_entry_admitted_has_window",
            ),
        ]
        indexes = [
            # Position and "next to admit": an index-only count / scan in number order.
            models.Index(
                fields=["event", "number"],
                include=["last_seen_at"],
                condition=Q(status="waiting"),
                name="wr_entry_waiting_number",
            ),
            models.Index(fields=["event", "status"], name="wr_entry_event_status"),
            models.Index(fields=["event", "admitted_at"], name="wr_entry_event_admitted"),
            models.Index(
                fields=["event", "prequeue"],
                condition=Q(status="waiting", prequeue=True),
                name="wr_entry_prequeue",
            ),
            models.Index(fields=["event", "user", "cooldown_until"], name="wr_entry_user_cooldown"),
            models.Index(fields=["event", "customer", "cooldown_until"], name="wr_entry_customer_cooldown"),
        ]

    def __str__(self) -> str:
        return f"{self.event} #{self.number} ({self.status})"

    @property
    def source_reference(self) -> str:
        """How ticketing names the checkout session this entry's admission opened."""
        return f"entry:{self.pk}"

    # Transitions only change state; waitingroom.services decides when and does the rest.
    @django_fsm.transition(field=status, source=EntryStatus.WAITING, target=EntryStatus.ADMITTED)
    def admit(self) -> None:
        pass

    @django_fsm.transition(field=status, source=EntryStatus.ADMITTED, target=EntryStatus.COMPLETED)
    def complete(self) -> None:
        pass

    @django_fsm.transition(
        field=status, source=[EntryStatus.WAITING, EntryStatus.ADMITTED], target=EntryStatus.EXPIRED
    )
    def expire(self) -> None:
        pass

    @django_fsm.transition(
        field=status, source=[EntryStatus.WAITING, EntryStatus.ADMITTED], target=EntryStatus.LEFT
    )
    def leave(self) -> None:
        pass


class AdmissionRecord(TenantOwned):
    """One line of an event's append-only admission log, a hash chain (``waitingroom.fairness``).

    Written only by ``waitingroom.fairness``, in the same transaction as the change it records; its place
    in the chain (``seq``, hashes) is given under the per-event log lock (a join's record waits, pending,
    for the next sealing); ``(event, seq)`` is unique, so a writer that skipped the lock could not fork
    the chain. No personal data: entries appear by ``WaitingRoomEntry.public_id`` only."""

    event = models.ForeignKey("ticketing.Event", on_delete=models.CASCADE, related_name="admission_records")
    # NULL while pending: a join is recorded in its own transaction and sealed into the chain later.
    seq = models.PositiveIntegerField(null=True, blank=True)
    at = models.DateTimeField()
    kind = models.CharField(max_length=12)
    data = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["event", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["event", "seq"], name="wr_record_event_seq_unique"),
            models.CheckConstraint(
                condition=Q(seq__isnull=True, hash="") | (Q(seq__isnull=False) & ~Q(hash="")),
                name="wr_record_sealed_has_hash",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["room", "join", "draw", "admit", "complete", "expire", "leave"]),
                name="wr_record_kind_valid",
            ),
        ]
        indexes = [
            # "Check my entry": the records naming one entry id.
            models.Index(models.F("event"), KT("data__entry"), name="wr_record_event_entry"),
            # "Is this entry's join still pending?" and the sealer's scan: only pending rows.
            models.Index(
                models.F("event"), KT("data__entry"), condition=Q(seq__isnull=True), name="wr_record_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} #{self.seq} {self.kind}"
