"""Event ticketing: venues, events, tiers with inventory, checkout sessions, orders, issued tickets.

Invariants the database holds (never only Python): ``0 ≤ sold``, ``0 ≤ reserved``,
``sold + reserved ≤ quantity`` on every tier; order totals add up; one live idempotency key per tenant;
event times are ordered. Inventory counters are only changed by ``ticketing.inventory`` (conditional
UPDATEs); lifecycles are django-fsm-2 fields changed only by ``ticketing.services``.
"""

from __future__ import annotations

import zoneinfo
from decimal import Decimal

import django_fsm
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import TenantOwned
from core.references import new_reference, new_token
from tenants.models import validate_time_zone


class Venue(TenantOwned):
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=120)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    latitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-90)), MaxValueValidator(Decimal(90))],
    )
    longitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-180)), MaxValueValidator(Decimal(180))],
    )
    capacity = models.PositiveIntegerField()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gt=0), name="venue_capacity_positive"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="venue_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="venue_longitude_range",
            ),
            models.UniqueConstraint(fields=["tenant", "name", "city"], name="venue_tenant_name_city_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.city}"


class EventStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ON_SALE = "on_sale", _("On sale")
    SOLD_OUT = "sold_out", _("Sold out")
    CANCELLED = "cancelled", pgettext_lazy("event status", "Cancelled")
    ENDED = "ended", pgettext_lazy("event status", "Ended")


class Event(TenantOwned):
    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="events")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80)
    description = models.TextField(blank=True)
    performer = models.CharField(max_length=200, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    doors_open_at = models.DateTimeField(null=True, blank=True)
    # Venue snapshot taken at creation: later venue edits do not move an announced event.
    venue_name = models.CharField(max_length=200, editable=False)
    venue_address = models.CharField(max_length=300, blank=True, editable=False)
    venue_city = models.CharField(max_length=120, editable=False)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone], editable=False)
    status = django_fsm.FSMField(default=EventStatus.DRAFT, choices=EventStatus.choices, protected=True)
    sale_starts_at = models.DateTimeField(null=True, blank=True)
    sale_ends_at = models.DateTimeField(null=True, blank=True)
    checkout_limit = models.PositiveIntegerField(
        default=5, help_text=_("How many checkout sessions may be open at once.")
    )
    checkout_minutes = models.PositiveIntegerField(
        default=10, help_text=_("How long a checkout holds seats.")
    )
    per_order_max = models.PositiveIntegerField(default=10)
    currency = models.CharField(max_length=3, default="USD")
    fee_fixed_cents = models.PositiveIntegerField(
        default=0, help_text=_("Service fee per ticket, fixed part.")
    )
    fee_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        # xgettext:no-python-format
        help_text=_("Service fee per ticket, % of price."),
    )
    tax_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        # xgettext:no-python-format
        help_text=_("Tax, % of subtotal plus fees."),
    )
    waiting_room_enabled = models.BooleanField(
        default=False, help_text=_("Only people admitted by the waiting room may open a checkout.")
    )
    # All active tiers together never offer more than this; it starts at the venue's capacity and only the
    # promoter raises it (tiers cannot add up past it).
    capacity = models.PositiveIntegerField(help_text=_("Most tickets all tiers together may offer."))
    # Pay at the door reserves seats without paying: its own switch (off when the sale runs through a
    # waiting room unless the promoter turns it on), a per-buyer cap, and an expiry for unpaid orders.
    pay_at_door_enabled = models.BooleanField(
        default=True, help_text=_("Buyers may reserve and pay at the door.")
    )
    pay_at_door_max_per_buyer = models.PositiveIntegerField(
        default=4,
        help_text=_(
            "Most unpaid pay-at-the-door tickets one buyer may hold for this event (counted per email, "
            "browser, network address and signed-in account)."
        ),
    )
    pay_at_door_max_outstanding = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("Most unpaid pay-at-the-door tickets all buyers together may hold. Empty: no cap."),
    )
    pay_at_door_hold_hours = models.PositiveIntegerField(
        default=48,
        help_text=_("Hours an unpaid pay-at-the-door order holds its seats before it is cancelled."),
    )
    # Parallel tabs must not hold the whole sale: open checkouts per browser (or signed-in account) and per
    # network address.
    open_checkouts_per_buyer = models.PositiveIntegerField(
        default=1, help_text=_("Checkouts one browser or signed-in buyer may have open at once.")
    )
    open_checkouts_per_address = models.PositiveIntegerField(
        default=3, help_text=_("Checkouts one network address may have open at once.")
    )
    dedupe_key = models.CharField(max_length=500, editable=False)
    search_vector = SearchVectorField(null=True, editable=False)
    # Lower-cased title, performer, venue and city, and the trigrams of its words, for typo-tolerant
    # search (``ticketing.search``); written with ``search_vector`` by ``ticketing.services``.
    search_text = models.TextField(blank=True, default="", editable=False)
    search_trigrams = ArrayField(models.CharField(max_length=3), default=list, blank=True, editable=False)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="event_ends_after_start"),
            models.CheckConstraint(
                condition=Q(doors_open_at__isnull=True) | Q(doors_open_at__lte=F("starts_at")),
                name="event_doors_before_start",
            ),
            models.CheckConstraint(
                condition=Q(sale_starts_at__isnull=True)
                | Q(sale_ends_at__isnull=True)
                | Q(sale_ends_at__gt=F("sale_starts_at")),
                name="event_sale_window_ordered",
            ),
            models.CheckConstraint(condition=Q(checkout_limit__gte=1), name="event_checkout_limit_positive"),
            models.CheckConstraint(
                condition=Q(checkout_minutes__gte=1), name="event_checkout_minutes_positive"
            ),
            models.CheckConstraint(condition=Q(per_order_max__gte=1), name="event_per_order_max_positive"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="event_capacity_positive"),
            models.CheckConstraint(
                condition=Q(pay_at_door_max_per_buyer__gte=1, pay_at_door_hold_hours__gte=1),
                name="event_pay_at_door_limits_positive",
            ),
            models.CheckConstraint(
                condition=Q(open_checkouts_per_buyer__gte=1, open_checkouts_per_address__gte=1),
                name="event_open_checkout_limits_positive",
            ),
            models.CheckConstraint(
                condition=Q(fee_percent__gte=0, tax_percent__gte=0), name="event_rates_not_negative"
            ),
            models.UniqueConstraint(fields=["tenant", "slug"], name="event_tenant_slug_unique"),
            models.UniqueConstraint(fields=["dedupe_key"], name="event_dedupe_key_unique"),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="event_search_gin"),
            GinIndex(fields=["search_trigrams"], name="event_search_trigrams_gin"),
            models.Index(fields=["tenant", "status", "starts_at"], name="event_tenant_status_start"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def is_public(self) -> bool:
        return self.status != EventStatus.DRAFT

    def sale_state(self, now) -> str:
        """What a buyer sees of the sale at ``now``: ``upcoming`` (published, the sale opens later),
        ``on_sale``, ``sale_ended`` (the event is still ahead but its sale closed), ``sold_out``,
        ``cancelled``, ``ended`` or ``draft``."""
        if self.status in (EventStatus.ON_SALE, EventStatus.SOLD_OUT):
            if now >= self.ends_at:
                return "ended"
            if self.sale_starts_at and now < self.sale_starts_at:
                return "upcoming"
            if self.sale_ends_at and now >= self.sale_ends_at:
                return "sale_ended"
        return str(self.status)

    @property
    def current_sale_state(self) -> str:
        return self.sale_state(timezone.now())

    # Transitions only change state; ticketing.services decides when and does the rest.
    @django_fsm.transition(field=status, source=EventStatus.DRAFT, target=EventStatus.ON_SALE)
    def publish(self) -> None:
        pass

    @django_fsm.transition(
        field=status,
        source=[EventStatus.DRAFT, EventStatus.ON_SALE, EventStatus.SOLD_OUT],
        target=EventStatus.CANCELLED,
    )
    def cancel(self) -> None:
        pass

    @django_fsm.transition(
        field=status, source=[EventStatus.ON_SALE, EventStatus.SOLD_OUT], target=EventStatus.ENDED
    )
    def end(self) -> None:
        pass


class TierKind(models.TextChoices):
    GENERAL = "general", _("General admission")
    VIP = "vip", _("VIP")
    EARLY_BIRD = "early_bird", _("Early bird")
    OTHER = "other", _("Other")


class TicketTier(TenantOwned):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=TierKind.choices, default=TierKind.GENERAL)
    price_cents = models.PositiveIntegerField()
    quantity = models.PositiveIntegerField()
    sold = models.IntegerField(default=0, editable=False)
    reserved = models.IntegerField(default=0, editable=False)
    sale_starts_at = models.DateTimeField(null=True, blank=True)
    sale_ends_at = models.DateTimeField(null=True, blank=True)
    min_per_order = models.PositiveIntegerField(default=1)
    max_per_order = models.PositiveIntegerField(default=10)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["event", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(sold__gte=0), name="tier_sold_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="tier_reserved_not_negative"),
            models.CheckConstraint(
                condition=Q(quantity__gte=F("sold") + F("reserved")), name="tier_never_oversold"
            ),
            models.CheckConstraint(condition=Q(min_per_order__gte=1), name="tier_min_per_order_positive"),
            models.CheckConstraint(
                condition=Q(min_per_order__lte=F("max_per_order")), name="tier_min_not_above_max"
            ),
            models.CheckConstraint(
                condition=Q(sale_starts_at__isnull=True)
                | Q(sale_ends_at__isnull=True)
                | Q(sale_ends_at__gt=F("sale_starts_at")),
                name="tier_sale_window_ordered",
            ),
            models.UniqueConstraint(fields=["event", "name"], name="tier_event_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.event} · {self.name}"

    @property
    def available(self) -> int:
        return self.quantity - self.sold - self.reserved


class SessionStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("checkout status", "Active")
    COMPLETED = "completed", pgettext_lazy("checkout status", "Completed")
    EXPIRED = "expired", pgettext_lazy("checkout status", "Expired")
    ABANDONED = "abandoned", pgettext_lazy("checkout status", "Abandoned")


class SessionSource(models.TextChoices):
    DIRECT = "direct", _("Direct")
    WAITING_ROOM = "waiting_room", _("Waiting room")
    HOLD = "hold", _("Existing hold (waitlist offer)")


class CheckoutSession(django_fsm.ConcurrentTransitionMixin, TenantOwned):
    token = models.CharField(max_length=40, unique=True, default=new_token, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="checkout_sessions")
    customer = models.ForeignKey(
        "tenants.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="checkout_sessions"
    )
    user = models.ForeignKey(
        "tenants.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="checkout_sessions"
    )
    status = django_fsm.FSMField(default=SessionStatus.ACTIVE, choices=SessionStatus.choices, protected=True)
    source = models.CharField(max_length=20, choices=SessionSource.choices, default=SessionSource.DIRECT)
    source_reference = models.CharField(
        max_length=100,
        blank=True,
        help_text=_("Waiting-room entry or waitlist offer this session came from."),
    )
    # The price snapshot shown to the buyer when the checkout opened (with the items' unit prices and
    # fees): a later edit of the event never changes what this checkout charges.
    currency = models.CharField(max_length=3, blank=True)
    tax_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    # Who opened it: the Django session key of the browser (or the signed-in user). Links to a checkout
    # work only there (``ticketing.selectors.session_for_holder``).
    holder_key = models.CharField(max_length=64, blank=True, editable=False)
    # A keyed hash of the network address it was opened from (``core.holders.address_key``; never the
    # address itself): the per-address limits on open checkouts and unpaid seats count by it.
    address_key = models.CharField(max_length=64, blank=True, editable=False)
    # The contact typed at this checkout (copied to the order): what the buyer said, whatever the shared
    # customer record says.
    buyer_name = models.CharField(max_length=200, blank=True)
    buyer_email = models.EmailField(blank=True)
    buyer_phone = models.CharField(max_length=40, blank=True)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One admission (waiting-room entry) or one waitlist offer opens at most one live session.
            models.UniqueConstraint(
                fields=["event", "source", "source_reference"],
                condition=Q(status="active") & ~Q(source_reference=""),
                name="checkout_session_one_live_per_source",
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(status="active"), name="checkout_session_active_expiry"
            ),
            models.Index(fields=["event", "status"], name="checkout_session_event_status"),
        ]

    def __str__(self) -> str:
        return f"Checkout {self.token[:6]}… ({self.status})"

    def is_live(self, now) -> bool:
        return self.status == SessionStatus.ACTIVE and self.expires_at > now

    @django_fsm.transition(field=status, source=SessionStatus.ACTIVE, target=SessionStatus.COMPLETED)
    def complete(self) -> None:
        pass

    @django_fsm.transition(field=status, source=SessionStatus.ACTIVE, target=SessionStatus.EXPIRED)
    def expire(self) -> None:
        pass

    @django_fsm.transition(field=status, source=SessionStatus.ACTIVE, target=SessionStatus.ABANDONED)
    def abandon(self) -> None:
        pass


class CheckoutItem(models.Model):
    """Seats of one tier held by one session (counted in the tier's ``reserved`` while it is active)."""

    session = models.ForeignKey(CheckoutSession, on_delete=models.CASCADE, related_name="items")
    tier = models.ForeignKey(TicketTier, on_delete=models.PROTECT, related_name="checkout_items")
    quantity = models.PositiveIntegerField()
    # Snapshot at opening (None only for sessions opened before snapshots existed: priced live).
    unit_price_cents = models.PositiveIntegerField(null=True, blank=True)
    unit_fee_cents = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["tier_id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="checkout_item_quantity_positive"),
            models.UniqueConstraint(fields=["session", "tier"], name="checkout_item_session_tier_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.tier.name}"


class CheckoutSlot(models.Model):
    """The event's checkout limit as rows: a session needs a free slot, so there can never be more
    open sessions than slots numbered ≤ the limit. Claimed with ``FOR UPDATE SKIP LOCKED`` so people
    opening checkouts never queue behind one hot row. A slot is free when it holds no session or its
    session's hold has passed ``held_until`` (expired sessions are released by whoever claims the slot)."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="checkout_slots")
    number = models.PositiveIntegerField()
    session = models.OneToOneField(
        CheckoutSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="slot"
    )
    held_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["event", "number"]
        constraints = [
            models.UniqueConstraint(fields=["event", "number"], name="checkout_slot_event_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="checkout_slot_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.event} slot {self.number}"


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Pending payment")
    PAID = "paid", pgettext_lazy("order status", "Paid")
    CANCELLED = "cancelled", pgettext_lazy("order status", "Cancelled")
    REFUNDED = "refunded", pgettext_lazy("order status", "Refunded")


class Order(django_fsm.ConcurrentTransitionMixin, TenantOwned):
    reference = models.CharField(max_length=20, unique=True, default=new_reference, editable=False)
    access_token = models.CharField(max_length=40, unique=True, default=new_token, editable=False)
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="orders")
    customer = models.ForeignKey("tenants.Customer", on_delete=models.PROTECT, related_name="ticket_orders")
    # The contact the buyer typed for this order, kept as typed: a later change of the customer record
    # (another purchase with the same email) never rewrites whose tickets these are.
    buyer_name = models.CharField(max_length=200, blank=True)
    buyer_email = models.EmailField(blank=True)
    buyer_phone = models.CharField(max_length=40, blank=True)
    session = models.OneToOneField(
        CheckoutSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="order"
    )
    status = django_fsm.FSMField(default=OrderStatus.PENDING, choices=OrderStatus.choices, protected=True)
    subtotal_cents = models.IntegerField()
    fee_cents = models.IntegerField()
    tax_cents = models.IntegerField()
    total_cents = models.IntegerField()
    currency = models.CharField(max_length=3)
    payment_provider = models.CharField(max_length=20)
    payment_reference = models.CharField(max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # Unpaid (pay at the door) orders hold seats only until then; reads treat a pending order past it as
    # expired, beat and the next buyer cancel it and release its seats.
    expires_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(subtotal_cents__gte=0, fee_cents__gte=0, tax_cents__gte=0, total_cents__gte=0),
                name="order_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(total_cents=F("subtotal_cents") + F("fee_cents") + F("tax_cents")),
                name="order_total_adds_up",
            ),
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="order_tenant_idempotency_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["event", "created_at"], name="order_event_created"),
            models.Index(fields=["expires_at"], condition=Q(status="pending"), name="order_pending_expiry"),
        ]

    def __str__(self) -> str:
        return f"Order {self.reference}"

    def is_expired_unpaid(self, now) -> bool:
        return self.status == OrderStatus.PENDING and self.expires_at is not None and self.expires_at <= now

    @django_fsm.transition(field=status, source=OrderStatus.PENDING, target=OrderStatus.PAID)
    def mark_paid(self) -> None:
        pass

    @django_fsm.transition(
        field=status, source=[OrderStatus.PENDING, OrderStatus.PAID], target=OrderStatus.CANCELLED
    )
    def cancel(self) -> None:
        pass

    @django_fsm.transition(field=status, source=OrderStatus.PAID, target=OrderStatus.REFUNDED)
    def refund(self) -> None:
        pass


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    tier = models.ForeignKey(TicketTier, on_delete=models.PROTECT, related_name="order_items")
    tier_name = models.CharField(max_length=120)
    quantity = models.PositiveIntegerField()
    unit_price_cents = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_item_quantity_positive"),
            models.UniqueConstraint(fields=["order", "tier"], name="order_item_order_tier_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.tier_name}"

    @property
    def line_total_cents(self) -> int:
        return self.quantity * self.unit_price_cents


class TicketStatus(models.TextChoices):
    VALID = "valid", pgettext_lazy("ticket status", "Valid")
    USED = "used", pgettext_lazy("ticket status", "Used")
    CANCELLED = "cancelled", pgettext_lazy("ticket status", "Cancelled")


class IssuedTicket(django_fsm.ConcurrentTransitionMixin, TenantOwned):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="tickets")
    tier = models.ForeignKey(TicketTier, on_delete=models.PROTECT, related_name="issued_tickets")
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="issued_tickets")
    code = models.CharField(max_length=40, unique=True, default=new_token, editable=False)
    status = django_fsm.FSMField(default=TicketStatus.VALID, choices=TicketStatus.choices, protected=True)
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        "tenants.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="checked_in_tickets"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="used", used_at__isnull=False) | ~Q(status="used"),
                name="issued_ticket_used_has_time",
            ),
        ]
        indexes = [models.Index(fields=["event", "status"], name="issued_ticket_event_status")]

    def __str__(self) -> str:
        return f"Ticket {self.code[:6]}… ({self.status})"

    @django_fsm.transition(field=status, source=TicketStatus.VALID, target=TicketStatus.USED)
    def use(self) -> None:
        pass

    @django_fsm.transition(field=status, source=TicketStatus.VALID, target=TicketStatus.CANCELLED)
    def cancel(self) -> None:
        pass
