"""Operators' view of the help desk. Queue settings (hours, holidays, turnarounds, agents) are editable
here — they are configuration, validated by the models' constraints; clocks and escalations are
records written by ``support.services`` and are read-only. The "escalate now" action calls the service."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from support import services
from support.models import (
    BusinessHours,
    Escalation,
    Holiday,
    SupportAgent,
    SupportQueue,
    SupportTicket,
    Turnaround,
)


class TurnaroundInline(admin.TabularInline):
    model = Turnaround
    fields = ["priority", "business_minutes"]
    extra = 0


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    fields = ["weekday", "opens", "closes"]
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    fields = ["date", "name"]
    extra = 0


class SupportAgentInline(admin.TabularInline):
    model = SupportAgent
    fields = ["user", "is_primary", "priority", "receives_assignments"]
    raw_id_fields = ["user"]
    extra = 0


class TenantFromQueueMixin:
    """Inline rows take the tenant of their support queue."""

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for instance in instances:
            instance.tenant_id = form.instance.tenant_id
            instance.save()
        for obj in formset.deleted_objects:
            obj.delete()
        formset.save_m2m()


@admin.register(SupportQueue)
class SupportQueueAdmin(TenantFromQueueMixin, admin.ModelAdmin):
    list_display = ["queue", "tenant", "assignment_mode", "default_turnaround_minutes", "due_soon_minutes"]
    list_filter = ["assignment_mode", "tenant"]
    list_select_related = ["queue", "tenant"]
    search_fields = ["queue__name", "queue__slug", "tenant__slug"]
    raw_id_fields = ["queue", "escalation_manager", "escalation_owner"]
    readonly_fields = ["tenant"]
    inlines = [TurnaroundInline, BusinessHoursInline, HolidayInline, SupportAgentInline]

    def save_model(self, request, obj, form, change):
        obj.tenant_id = obj.queue.tenant_id
        super().save_model(request, obj, form, change)


@admin.register(Turnaround)
class TurnaroundAdmin(admin.ModelAdmin):
    list_display = ["support_queue", "priority", "business_minutes", "tenant"]
    list_filter = ["priority", "tenant"]
    readonly_fields = ["tenant"]

    def save_model(self, request, obj, form, change):
        obj.tenant_id = obj.support_queue.tenant_id
        super().save_model(request, obj, form, change)


@admin.register(BusinessHours)
class BusinessHoursAdmin(TurnaroundAdmin):
    list_display = ["support_queue", "weekday", "opens", "closes", "tenant"]
    list_filter = ["weekday", "tenant"]


@admin.register(Holiday)
class HolidayAdmin(TurnaroundAdmin):
    list_display = ["support_queue", "date", "name", "tenant"]
    list_filter = ["tenant"]
    date_hierarchy = "date"


@admin.register(SupportAgent)
class SupportAgentAdmin(TurnaroundAdmin):
    list_display = ["support_queue", "user", "is_primary", "priority", "receives_assignments", "tenant"]
    list_filter = ["is_primary", "receives_assignments", "tenant"]
    raw_id_fields = ["user"]


@admin.register(SupportTicket)
class SupportTicketAdmin(admin.ModelAdmin):
    list_display = [
        "ticket",
        "support_queue",
        "turnaround_minutes",
        "first_due_at",
        "next_escalation_at",
        "paused_at",
        "paused_business_seconds",
        "cycle",
    ]
    list_filter = ["tenant", "support_queue"]
    list_select_related = ["ticket", "support_queue__queue"]
    search_fields = ["ticket__reference"]
    actions = ["escalate_now"]
    readonly_fields = [field.name for field in SupportTicket._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Escalate now if past the escalation deadline"))
    def escalate_now(self, request, queryset):
        done = sum(
            1
            for clock in queryset
            if services.support_ticket_escalate(ticket_id=clock.ticket_id, skip_locked=True) is not None
        )
        messages.info(
            request,
            ngettext(
                "Escalated %(count)s ticket; the others were not due or already escalated.",
                "Escalated %(count)s tickets; the others were not due or already escalated.",
                done,
            )
            % {"count": done},
        )


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ["ticket", "level", "cycle", "breached_deadline", "escalated_at", "to_assignee", "tenant"]
    list_filter = ["level", "tenant"]
    search_fields = ["ticket__reference"]
    list_select_related = ["ticket", "to_assignee", "tenant"]
    readonly_fields = [field.name for field in Escalation._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
