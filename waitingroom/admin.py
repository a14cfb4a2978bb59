"""Operator admin, read-only: every change goes through ``waitingroom.services`` (staff pages)."""

from django.contrib import admin

from waitingroom.models import AdmissionRecord, WaitingRoom, WaitingRoomEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WaitingRoom)
class WaitingRoomAdmin(ReadOnlyAdmin):
    list_display = ["event", "tenant", "opens_at", "admission_minutes", "unseen_minutes", "cooldown_minutes",
                    "prequeue_shuffle", "admission_paused", "draw_commitment", "shuffled_at"]  # fmt: skip
    list_filter = ["admission_paused", "prequeue_shuffle", "tenant"]
    search_fields = ["event__title"]


@admin.register(WaitingRoomEntry)
class WaitingRoomEntryAdmin(ReadOnlyAdmin):
    list_display = ["event", "number", "status", "customer", "user", "prequeue", "joined_at", "last_seen_at",
                    "admitted_at", "expires_at", "cooldown_until"]  # fmt: skip
    list_filter = ["status", "prequeue", "tenant"]
    search_fields = ["customer__email", "user__email", "event__title"]
    list_select_related = ["event", "customer", "user"]
    show_full_result_count = False


@admin.register(AdmissionRecord)
class AdmissionRecordAdmin(ReadOnlyAdmin):
    list_display = ["event", "seq", "kind", "at", "hash"]
    list_filter = ["kind", "tenant"]
    search_fields = ["event__title", "hash"]
    list_select_related = ["event"]
    show_full_result_count = False
