"""Operator admin. Lifecycle fields are read-only here; state changes go through services (actions), and
edits of events and tiers go through ``ticketing.services`` (``core.adminkit.ServiceModelAdmin``): a tier's
quantity raised here offers the new seats to its waitlist, as on the dashboard. Nothing that has a cancel
or a refund (events, tiers, orders, issued tickets, checkouts) can be deleted here."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.adminkit import ServiceModelAdmin, changed_fields
from core.errors import DomainError
from ticketing import services
from ticketing.models import (
    CheckoutItem,
    CheckoutSession,
    CheckoutSlot,
    Event,
    IssuedTicket,
    Order,
    OrderItem,
    OrderStatus,
    TicketTier,
    Venue,
)


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "time_zone", "capacity", "tenant"]
    list_filter = ["tenant", "time_zone"]
    search_fields = ["name", "city", "address"]


class NoDeleteMixin:
    """The domain has cancel and refund for these; deleting would take tickets with it and leave the tier
    counters wrong."""

    def has_delete_permission(self, request, obj=None):
        return False


class TicketTierInline(admin.TabularInline):
    """Read-only: a tier is edited on its own page, through the tier service."""

    model = TicketTier
    extra = 0
    fields = ["name", "kind", "price_cents", "quantity", "sold", "reserved", "is_active"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(NoDeleteMixin, ServiceModelAdmin):
    list_display = ["title", "performer", "starts_at", "venue_name", "status", "tenant"]
    list_filter = ["status", "tenant", "waiting_room_enabled"]
    search_fields = ["title", "performer", "venue_name", "venue_city", "slug"]
    readonly_fields = ["status", "venue_name", "venue_address", "venue_city", "time_zone", "dedupe_key"]
    date_hierarchy = "starts_at"
    inlines = [TicketTierInline]

    def get_readonly_fields(self, request, obj=None):
        # The venue is snapshotted when the event is created; the tenant follows the venue.
        fixed = ["tenant", "venue", "slug"] if obj else ["tenant", "slug"]
        return [*self.readonly_fields, *fixed]

    def service_save(self, request, obj, form, change):
        fields = changed_fields(form, services.EVENT_FIELDS)
        if change:
            services.event_update(tenant=obj.tenant, actor=request.user, event=obj, **fields)
            return
        venue = form.cleaned_data["venue"]
        for name in ("title", "starts_at", "ends_at"):
            fields.pop(name, None)
        created = services.event_create(
            tenant=venue.tenant,
            actor=request.user,
            venue=venue,
            title=form.cleaned_data["title"],
            starts_at=form.cleaned_data["starts_at"],
            ends_at=form.cleaned_data.get("ends_at"),
            **fields,
        )
        obj.pk = created.pk


@admin.register(TicketTier)
class TicketTierAdmin(NoDeleteMixin, ServiceModelAdmin):
    list_display = ["name", "event", "kind", "price_cents", "quantity", "sold", "reserved", "is_active"]
    list_filter = ["kind", "is_active", "tenant"]
    search_fields = ["name", "event__title"]
    readonly_fields = ["sold", "reserved"]

    def get_readonly_fields(self, request, obj=None):
        # The tenant follows the event; a tier does not move between events.
        return [*self.readonly_fields, "tenant", *(["event"] if obj else [])]

    def service_save(self, request, obj, form, change):
        fields = changed_fields(form, services.TIER_FIELDS)
        if change:
            services.tier_update(tenant=obj.tenant, actor=request.user, tier=obj, **fields)
            return
        event = form.cleaned_data["event"]
        for name in ("name", "price_cents", "quantity"):
            fields.pop(name, None)
        created = services.tier_create(
            tenant=event.tenant,
            actor=request.user,
            event=event,
            name=form.cleaned_data["name"],
            price_cents=form.cleaned_data["price_cents"],
            quantity=form.cleaned_data["quantity"],
            **fields,
        )
        obj.pk = created.pk


class CheckoutItemInline(admin.TabularInline):
    model = CheckoutItem
    extra = 0
    readonly_fields = ["tier", "quantity"]
    can_delete = False


@admin.register(CheckoutSession)
class CheckoutSessionAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["token", "event", "status", "source", "expires_at", "customer", "created_at"]
    list_filter = ["status", "source", "tenant"]
    search_fields = ["token", "customer__email", "event__title", "source_reference"]
    readonly_fields = ["status", "token", "expires_at", "ended_at", "source", "source_reference"]
    inlines = [CheckoutItemInline]
    actions = ["expire_due"]

    @admin.action(description=_("Expire selected sessions whose hold has passed (releases seats)"))
    def expire_due(self, request, queryset):
        expired = sum(services.checkout_expire(session_id=pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext("Expired %(count)s session.", "Expired %(count)s sessions.", expired)
            % {"count": expired},
        )


@admin.register(CheckoutItem)
class CheckoutItemAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["session", "tier", "quantity"]
    list_filter = ["session__status"]
    search_fields = ["session__token", "tier__name"]
    readonly_fields = ["session", "tier", "quantity"]


@admin.register(CheckoutSlot)
class CheckoutSlotAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["event", "number", "session", "held_until"]
    list_filter = ["event__tenant"]
    search_fields = ["event__title"]
    readonly_fields = ["event", "number", "session", "held_until"]


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    readonly_fields = ["tier", "tier_name", "quantity", "unit_price_cents"]
    can_delete = False


@admin.register(Order)
class OrderAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = [
        "reference",
        "event",
        "customer",
        "status",
        "total_cents",
        "currency",
        "payment_provider",
        "created_at",
    ]  # noqa: E501
    list_filter = ["status", "payment_provider", "tenant"]
    search_fields = ["reference", "customer__email", "event__title", "idempotency_key"]
    readonly_fields = [
        "status", "reference", "access_token", "subtotal_cents", "fee_cents", "tax_cents", "total_cents",
        "paid_at", "cancelled_at", "refunded_at", "idempotency_key", "session",
    ]  # fmt: skip
    inlines = [OrderItemInline]
    actions = ["mark_paid", "cancel_orders"]

    @admin.action(description=_("Mark selected pay-at-door orders paid"))
    def mark_paid(self, request, queryset):
        done = 0
        for order in queryset.filter(status=OrderStatus.PENDING).select_related("tenant"):
            try:
                services.order_mark_paid(tenant=order.tenant, actor=request.user, order=order)
                done += 1
            except DomainError as error:
                self.message_user(request, f"{order.reference}: {error.message}", messages.WARNING)
        self.message_user(
            request,
            ngettext("Marked %(count)s order paid.", "Marked %(count)s orders paid.", done) % {"count": done},
        )

    @admin.action(description=_("Cancel selected orders (tickets cancelled, seats returned)"))
    def cancel_orders(self, request, queryset):
        done = 0
        for order in queryset.select_related("tenant"):
            try:
                services.order_cancel(tenant=order.tenant, actor=request.user, order=order)
                done += 1
            except DomainError as error:
                self.message_user(request, f"{order.reference}: {error.message}", messages.WARNING)
        self.message_user(
            request,
            ngettext("Cancelled %(count)s order.", "Cancelled %(count)s orders.", done) % {"count": done},
        )


@admin.register(OrderItem)
class OrderItemAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["order", "tier_name", "quantity", "unit_price_cents"]
    search_fields = ["order__reference", "tier_name"]
    list_filter = ["order__status"]
    readonly_fields = ["order", "tier", "tier_name", "quantity", "unit_price_cents"]


@admin.register(IssuedTicket)
class IssuedTicketAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["code", "event", "tier", "status", "used_at", "used_by"]
    list_filter = ["status", "tenant"]
    search_fields = ["code", "order__reference", "order__customer__email"]
    readonly_fields = ["status", "code", "used_at", "used_by", "order", "tier", "event"]
