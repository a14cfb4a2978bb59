"""Operator admin. Lifecycle fields are read-only; state changes go through services (actions)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.errors import DomainError
from waitlists import services
from waitlists.models import EntryStatus, WaitlistEntry, WaitlistEntryEvent, WaitlistSettings


@admin.register(WaitlistSettings)
class WaitlistSettingsAdmin(admin.ModelAdmin):
    list_display = ["event", "tenant", "enabled", "offer_hours", "max_quantity"]
    list_filter = ["enabled", "tenant"]
    search_fields = ["event__title"]
    raw_id_fields = ["event"]


class WaitlistEntryEventInline(admin.TabularInline):
    model = WaitlistEntryEvent
    extra = 0
    can_delete = False
    readonly_fields = ["action", "actor", "note", "at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WaitlistEntryEvent)
class WaitlistEntryEventAdmin(admin.ModelAdmin):
    list_display = ["entry", "action", "actor", "note", "at"]
    list_filter = ["action", "entry__tenant"]
    search_fields = ["entry__customer__email", "note"]
    raw_id_fields = ["entry", "actor"]
    date_hierarchy = "at"

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    inlines = [WaitlistEntryEventInline]
    list_display = [
        "id",
        "event",
        "customer",
        "tier",
        "quantity",
        "status",
        "offered_tier",
        "offer_expires_at",
        "created_at",
    ]
    list_filter = ["status", "tenant", "event", ("tier", admin.EmptyFieldListFilter)]
    search_fields = ["customer__email", "customer__name", "event__title"]
    raw_id_fields = ["event", "tier", "customer", "offered_tier", "offered_by"]
    readonly_fields = [
        "status",
        "access_token",
        "offer_token",
        "offered_tier",
        "offered_at",
        "offer_expires_at",
        "offered_by",
        "closed_at",
        "checkout_token",
    ]
    date_hierarchy = "created_at"
    actions = ["offer_now", "withdraw", "run_offer_round"]

    @admin.action(description=_("Offer free seats now to the selected waiting entries (ahead of their turn)"))
    def offer_now(self, request, queryset):
        done = 0
        for entry in queryset.filter(status=EntryStatus.WAITING).select_related("tenant").order_by("id"):
            try:
                services.waitlist_offer_now(tenant=entry.tenant, actor=request.user, entry=entry)
                done += 1
            except DomainError as error:
                self.message_user(request, f"Entry {entry.pk}: {error.message}", messages.WARNING)
        self.message_user(
            request, ngettext("Sent %(count)s offer.", "Sent %(count)s offers.", done) % {"count": done}
        )

    @admin.action(description=_("Withdraw the selected entries (an offer's seats go to the next person)"))
    def withdraw(self, request, queryset):
        done = 0
        for entry in queryset.select_related("tenant"):
            try:
                services.waitlist_withdraw(tenant=entry.tenant, entry=entry, actor=request.user)
                done += 1
            except DomainError as error:
                self.message_user(request, f"Entry {entry.pk}: {error.message}", messages.WARNING)
        self.message_user(
            request,
            ngettext("Withdrew %(count)s entry.", "Withdrew %(count)s entries.", done) % {"count": done},
        )

    @admin.action(
        description=_("Run an offer round for the selected entries' events (expire due, offer free)")
    )
    def run_offer_round(self, request, queryset):
        offered = 0
        for event_id in sorted(set(queryset.values_list("event_id", flat=True))):
            offered += len(services.waitlist_offer_next(event_id=event_id, actor=request.user))
        self.message_user(
            request, ngettext("Sent %(count)s offer.", "Sent %(count)s offers.", offered) % {"count": offered}
        )
