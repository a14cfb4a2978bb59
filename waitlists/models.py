"""Waitlists: people waiting for a sold-out event (one tier, or "any tier"), in join order.

An entry's place in line is its primary key (a sequence: no hot counter row to update on join). Freed
seats are offered to the next waiting entries that fit; an offer holds the seats (they count in the
tier's ``reserved``) until it is claimed, declined or expires. Every terminal state is final: a withdrawn,
declined or expired entry is never offered again (joining again makes a new entry at the back).

Invariants the database holds: one active (waiting/offered) entry per customer, event and tier
(``NULLS NOT DISTINCT``, so also one "any tier" entry); an offer always names its tier and its times; an
offer for a tier-specific entry is for that tier; quantities are positive.
"""

from __future__ import annotations

import django_fsm
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import TenantOwned
from core.references import new_token


class EntryStatus(models.TextChoices):
    WAITING = "waiting", pgettext_lazy("waitlist status", "Waiting")
    OFFERED = "offered", _("Offer sent")
    CLAIMED = "claimed", pgettext_lazy("waitlist status", "Claimed")
    DECLINED = "declined", pgettext_lazy("waitlist status", "Declined")
    EXPIRED = "expired", _("Offer expired")
    WITHDRAWN = "withdrawn", pgettext_lazy("waitlist status", "Withdrawn")


ACTIVE_STATUSES = (EntryStatus.WAITING, EntryStatus.OFFERED)


class WaitlistSettings(TenantOwned):
    """Per-event waitlist options (the ticketing Event model stays untouched)."""

    event = models.OneToOneField(
        "ticketing.Event", on_delete=models.CASCADE, related_name="waitlist_settings"
    )
    enabled = models.BooleanField(default=True, help_text=_("People may join the waitlist when sold out."))
    offer_hours = models.PositiveIntegerField(default=24, help_text=_("How long an offer holds the seats."))
    max_quantity = models.PositiveIntegerField(
        default=4, help_text=_("Most tickets one person may wait for.")
    )

    class Meta:
        verbose_name_plural = "waitlist settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(offer_hours__gte=1, offer_hours__lte=24 * 14), name="waitlist_offer_hours_range"
            ),
            models.CheckConstraint(condition=Q(max_quantity__gte=1), name="waitlist_max_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"Waitlist settings · {self.event}"


class WaitlistEntry(django_fsm.ConcurrentTransitionMixin, TenantOwned):
    event = models.ForeignKey("ticketing.Event", on_delete=models.CASCADE, related_name="waitlist_entries")
    tier = models.ForeignKey(
        "ticketing.TicketTier",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="waitlist_entries",
        help_text=_("Empty means any tier with enough seats."),
    )
    customer = models.ForeignKey(
        "tenants.Customer", on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    quantity = models.PositiveIntegerField()
    status = django_fsm.FSMField(default=EntryStatus.WAITING, choices=EntryStatus.choices, protected=True)
    # The person's page (position, withdraw). Unguessable; the claim link is a separate signed token.
    access_token = models.CharField(max_length=40, unique=True, default=new_token, editable=False)
    offered_tier = models.ForeignKey(
        "ticketing.TicketTier",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="waitlist_offers",
        help_text=_("The tier whose seats the offer holds."),
    )
    offer_token = models.CharField(max_length=40, blank=True, editable=False)
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    offered_by = models.ForeignKey(
        "tenants.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    checkout_token = models.CharField(max_length=40, blank=True, editable=False)

    class Meta:
        ordering = ["event", "id"]
        verbose_name_plural = "waitlist entries"
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="waitlist_entry_quantity_positive"),
            models.UniqueConstraint(
                fields=["event", "customer", "tier"],
                condition=Q(status__in=["waiting", "offered"]),
                nulls_distinct=False,
                name="waitlist_entry_one_active_per_person",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["offered", "claimed", "declined", "expired"])
                | Q(
                    offered_tier__isnull=False,
                    offered_at__isnull=False,
                    offer_expires_at__isnull=False,
                ),
                name="waitlist_entry_offer_complete",
            ),
            models.CheckConstraint(
                condition=Q(tier__isnull=True) | Q(offered_tier__isnull=True) | Q(offered_tier=F("tier")),
                name="waitlist_entry_offer_matches_tier",
            ),
            models.CheckConstraint(
                condition=Q(offer_expires_at__isnull=True) | Q(offer_expires_at__gt=F("offered_at")),
                name="waitlist_entry_offer_expires_after_offer",
            ),
        ]
        indexes = [
            # The offer scan: next waiting entries of an event in join order.
            models.Index(
                fields=["event", "id"], condition=Q(status="waiting"), name="waitlist_entry_waiting_order"
            ),
            # Offers that are out (expiry sweep, staff view).
            models.Index(
                fields=["offer_expires_at"], condition=Q(status="offered"), name="waitlist_entry_offer_expiry"
            ),
            models.Index(fields=["event", "status"], name="waitlist_entry_event_status"),
        ]

    def __str__(self) -> str:
        return f"Waitlist #{self.pk} · {self.event} ({self.status})"

    @property
    def wants_any_tier(self) -> bool:
        return self.tier_id is None

    def offer_is_live(self, now) -> bool:
        """Reads never wait for the expiry task: an offer past its time is over."""
        return (
            self.status == EntryStatus.OFFERED
            and self.offer_expires_at is not None
            and self.offer_expires_at > now
        )

    def effective_status(self, now) -> str:
        if self.status == EntryStatus.OFFERED and not self.offer_is_live(now):
            return EntryStatus.EXPIRED
        return self.status

    # Transitions only change state; waitlists.services decides when and does the rest.
    @django_fsm.transition(field=status, source=EntryStatus.WAITING, target=EntryStatus.OFFERED)
    def offer(self) -> None:
        pass

    @django_fsm.transition(field=status, source=EntryStatus.OFFERED, target=EntryStatus.CLAIMED)
    def claim(self) -> None:
        pass

    @django_fsm.transition(field=status, source=EntryStatus.OFFERED, target=EntryStatus.DECLINED)
    def decline(self) -> None:
        pass

    @django_fsm.transition(field=status, source=EntryStatus.OFFERED, target=EntryStatus.EXPIRED)
    def expire(self) -> None:
        pass

    @django_fsm.transition(
        field=status, source=[EntryStatus.WAITING, EntryStatus.OFFERED], target=EntryStatus.WITHDRAWN
    )
    def withdraw(self) -> None:
        pass


class EntryAction(models.TextChoices):
    JOINED = "joined", pgettext_lazy("waitlist action", "Joined")
    OFFERED = "offered", pgettext_lazy("waitlist action", "Offered")
    CLAIMED = "claimed", pgettext_lazy("waitlist action", "Claimed")
    DECLINED = "declined", pgettext_lazy("waitlist action", "Declined")
    EXPIRED = "expired", pgettext_lazy("waitlist action", "Expired")
    WITHDRAWN = "withdrawn", pgettext_lazy("waitlist action", "Withdrawn")


class WaitlistEntryEvent(models.Model):
    """History of one entry (append-only, written by the services in the same transaction)."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="history")
    action = models.CharField(max_length=20, choices=EntryAction.choices)
    actor = models.ForeignKey(
        "tenants.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["entry", "at", "id"]
        indexes = [models.Index(fields=["entry", "at"], name="waitlist_history_entry_at")]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.action} at {self.at:%Y-%m-%d %H:%M}"
