"""Operators' view of the outbox: filter by status / channel / event, read every attempt, "retry now".
Rows are read-only here; retrying goes through ``services.message_retry``."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications import services
from notifications.models import (
    DeliveryAttempt,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
    WebhookEndpoint,
)
from notifications.webhooks import services as webhook_services


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ["number", "started_at", "finished_at", "succeeded", "response_status", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "tenant",
        "event_type",
        "channel",
        "recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status", "channel", "event_type", "tenant"]
    search_fields = ["recipient", "related_id", "last_error"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"
    inlines = [DeliveryAttemptInline]
    actions = ["retry_now"]
    readonly_fields = [
        "tenant",
        "event_type",
        "channel",
        "recipient",
        "customer",
        "user",
        "related_type",
        "related_id",
        "payload",
        "status",
        "attempts",
        "max_attempts",
        "next_attempt_at",
        "claimed_until",
        "last_error",
        "sent_at",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Operators read messages here (view permission); the only write is the "retry now" action.
        return False

    @admin.action(description=_("Retry now"))
    def retry_now(self, request, queryset):
        retried = 0
        for message in queryset.select_related("tenant"):
            if message.status == OutboxStatus.SENT:
                continue
            services.message_retry(tenant=message.tenant, actor=request.user, message_id=message.pk)
            retried += 1
        self.message_user(
            request,
            ngettext(
                "%(count)s message will be sent again shortly.",
                "%(count)s messages will be sent again shortly.",
                retried,
            )
            % {"count": retried},
            messages.SUCCESS,
        )


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["tenant", "user", "customer", "event_type", "channel", "enabled"]
    list_filter = ["channel", "event_type", "enabled", "tenant"]
    search_fields = ["user__email", "customer__email"]
    raw_id_fields = ["user", "customer"]


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    """Every attempt across messages, e.g. all failures of one tenant's webhook this morning."""

    list_display = ["message", "number", "tenant", "succeeded", "response_status", "started_at", "error"]
    list_filter = ["succeeded", "message__channel", "tenant"]
    search_fields = ["error", "message__recipient"]
    list_select_related = ["message", "tenant"]
    date_hierarchy = "started_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Operators see every tenant's endpoints and can disable or enable one (through the services);
    tenants manage theirs on the dashboard. The secret is never shown here."""

    list_display = [
        "url",
        "tenant",
        "disabled_at",
        "disabled_reason",
        "consecutive_failures",
        "last_success_at",
    ]
    list_filter = ["disabled_reason", "tenant"]
    search_fields = ["url", "description"]
    list_select_related = ["tenant"]
    fields = [
        "tenant",
        "url",
        "description",
        "event_types",
        "disabled_at",
        "disabled_reason",
        "consecutive_failures",
        "failing_since",
        "last_success_at",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields
    actions = ["disable", "enable"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Disable"))
    def disable(self, request, queryset):
        for endpoint in queryset.select_related("tenant"):
            webhook_services.endpoint_disable(
                tenant=endpoint.tenant, actor=request.user, endpoint_id=endpoint.pk
            )
        self.message_user(request, _("Disabled."), messages.SUCCESS)

    @admin.action(description=_("Enable"))
    def enable(self, request, queryset):
        for endpoint in queryset.select_related("tenant"):
            webhook_services.endpoint_enable(
                tenant=endpoint.tenant, actor=request.user, endpoint_id=endpoint.pk
            )
        self.message_user(request, _("Enabled."), messages.SUCCESS)
