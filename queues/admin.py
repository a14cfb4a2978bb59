"""Operator admin for queues. Ticket states change only through the "apply workflow event" action, which
calls the service (history, counters, notifications, broadcast included)."""

from __future__ import annotations

import copy
import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from jsonschemaform.admin.widgets.jsonschema_widget import JSONSchemaWidget

from core.adminkit import ServiceModelAdmin, changed_fields
from core.errors import DomainError
from core.numbers import set_range
from queues import services
from queues.forms import BoundedJSONField
from queues.models import (
    EtaForecast,
    Lane,
    LaneBlock,
    Queue,
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketEvent,
    TicketItem,
    TicketType,
)
from queues.schema_forms import validate_custom_data

# The shape of a workflow, so the admin can edit it as a form (the server validates it fully on save).
WORKFLOW_SCHEMA = {
    "type": "object",
    "title": "Workflow",
    "properties": {
        "init": {"type": "string", "title": "Initial state"},
        "states": {"type": "array", "title": "States", "items": {"type": "string"}},
        "transitions": {
            "type": "array",
            "title": "Transitions",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "from": {"type": ["string", "array"], "items": {"type": "string"}},
                    "to": {"type": "string"},
                    "label": {"type": "string"},
                    "needs_reason": {"type": "boolean"},
                },
            },
        },
        "phases": {
            "type": "object",
            "title": "Phase per state",
            "additionalProperties": {
                "type": "string",
                "enum": ["pending", "waiting", "serving", "done", "cancelled"],
            },
        },
    },
}


class LocalJSONSchemaWidget(JSONSchemaWidget):
    """django-jsonschema-form's widget with its JavaScript served from our static files and no CDN CSS;
    options are copied per render (the package mutates one shared dict)."""

    # Our template carries the editor's settings in a data attribute; the package's uses an inline
    # <script>, which the Content-Security-Policy refuses.
    template_name = "queues/admin/jsonschema_widget.html"

    def __init__(self, schema, attrs=None):
        super().__init__(schema, attrs)

    def get_context(self, name, value, attrs=None):
        if value in (None, ""):
            value = "{}"
        elif not isinstance(value, str):
            value = json.dumps(value)
        options = {
            "theme": "html",
            "iconlib": None,
            "no_additional_properties": False,
            "disable_edit_json": False,
        }
        try:
            options["startval"] = json.loads(value)
        except (ValueError, RecursionError):
            # Redisplaying input that is not JSON (or is nested too deeply): the field's error says
            # why; the editor starts empty.
            options["startval"] = None
        return {
            "id": attrs.get("id"),
            "name": name,
            "value": value,
            "context": json.dumps(
                {
                    "id": attrs.get("id"),
                    "attrs": attrs,
                    "schema": copy.deepcopy(self.schema),
                    "options": options,
                }
            ),
        }

    @property
    def media(self):
        return forms.Media(js=("js/jsoneditor.min.js", "queues/jsonschema-admin.js"))


class TicketTypeAdminForm(forms.ModelForm):
    class Meta:
        model = TicketType
        fields = [
            "tenant",
            "code",
            "name",
            "description",
            "workflow",
            "custom_fields_schema",
            "item_states",
            "ttl_minutes",
        ]
        widgets = {"workflow": LocalJSONSchemaWidget(WORKFLOW_SCHEMA)}
        field_classes = {
            "workflow": BoundedJSONField,
            "custom_fields_schema": BoundedJSONField,
            "item_states": BoundedJSONField,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        set_range(self.fields["ttl_minutes"], 1, 43200)


@admin.register(TicketType)
class TicketTypeAdmin(admin.ModelAdmin):
    form = TicketTypeAdminForm
    list_display = ["name", "code", "tenant", "version", "ttl_minutes", "updated_at"]
    list_filter = [("tenant", admin.EmptyFieldListFilter), "tenant"]
    search_fields = ["name", "code", "tenant__slug"]
    readonly_fields = ["version", "created_at", "updated_at"]
    autocomplete_fields = ["tenant"]


class LaneInline(admin.TabularInline):
    """Read-only: a lane is edited on its own page, through the lane service (version bump, broadcast)."""

    model = Lane
    extra = 0
    fields = [
        "code",
        "name",
        "display_order",
        "weight",
        "minimum_tip_cents",
        "enabled",
        "waiting_count",
        "now_serving",
        "next_turn",
    ]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "tenant",
        "kind",
        "enabled",
        "is_public",
        "ticket_type",
        "service_samples",
    ]
    list_filter = ["kind", "enabled", "is_public", "tenant"]
    search_fields = ["name", "slug", "tenant__slug", "tenant__name"]
    readonly_fields = [
        "interleave_phase",
        "service_seconds_average",
        "service_seconds_spread",
        "service_samples",
    ]
    inlines = [LaneInline]
    autocomplete_fields = ["tenant"]


@admin.register(Lane)
class LaneAdmin(ServiceModelAdmin):
    list_display = [
        "name",
        "code",
        "queue",
        "weight",
        "minimum_tip_cents",
        "enabled",
        "waiting_count",
        "now_serving",
        "next_turn",
    ]
    list_filter = ["enabled", "queue__kind", "tenant"]
    search_fields = ["name", "code", "queue__name", "queue__slug"]
    readonly_fields = ["waiting_count", "now_serving", "next_turn", "version"]

    def get_readonly_fields(self, request, obj=None):
        # Only the lane settings are editable (through ``lane_update``); lanes come with their queue.
        editable = services.LANE_SETTINGS
        names = [field.name for field in Lane._meta.concrete_fields if field.name not in editable]
        return [name for name in names if name != "id"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def service_save(self, request, obj, form, change):
        services.lane_update(
            tenant=obj.tenant,
            actor=request.user,
            lane=obj,
            changes=changed_fields(form, services.LANE_SETTINGS),
        )


@admin.register(LaneBlock)
class LaneBlockAdmin(admin.ModelAdmin):
    """Read-only: the counters behind lane ranks, maintained by the services."""

    list_display = ["lane", "block", "waiting"]
    list_filter = ["lane__queue"]
    search_fields = ["lane__code", "lane__queue__slug"]
    list_select_related = ["lane", "lane__queue"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


class TransitionActionForm(ActionForm):
    event = forms.CharField(
        required=False, label=_("Workflow event"), help_text=_("e.g. approve, start, complete")
    )
    note = forms.CharField(required=False, label=_("Note / reason"))


class TicketAdminForm(forms.ModelForm):
    class Meta:
        model = Ticket
        fields = ["title", "priority", "location", "due_at", "custom_data", "metadata"]

    def clean_custom_data(self):
        data = self.cleaned_data.get("custom_data") or {}
        if self.instance.pk:
            errors = validate_custom_data(self.instance.ticket_type.custom_fields_schema, data)
            if errors:
                raise forms.ValidationError(
                    [f"{key or 'data'}: {' '.join(value)}" for key, value in errors.items()]
                )
        return data


class EventInline(admin.TabularInline):
    model = TicketEvent
    extra = 0
    can_delete = False
    fields = ["occurred_at", "event", "from_state", "to_state", "actor", "actor_label", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    form = TicketAdminForm
    action_form = TransitionActionForm
    actions = ["apply_workflow_event"]
    list_display = [
        "reference",
        "tenant",
        "queue",
        "lane",
        "state",
        "phase",
        "turn_number",
        "customer",
        "assignee",
        "submitted_at",
    ]
    list_filter = ["phase", "state", "queue__kind", "priority", "tenant", "queue"]
    search_fields = ["reference", "customer__email", "customer__name", "need_text", "title"]
    list_select_related = ["tenant", "queue", "lane", "customer", "assignee"]
    date_hierarchy = "submitted_at"
    readonly_fields = [
        "reference",
        "tenant",
        "queue",
        "lane",
        "ticket_type",
        "state",
        "phase",
        "customer",
        "need_text",
        "tip_cents",
        "currency",
        "lane_sequence",
        "turn_number",
        "assignee",
        "submitted_at",
        "approved_at",
        "started_at",
        "completed_at",
        "expires_at",
        "resolved_at",
        "escalation_level",
        "last_escalated_at",
    ]
    inlines = [EventInline]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        schema = obj.ticket_type.custom_fields_schema if obj is not None else None
        if schema:
            form.base_fields["custom_data"].widget = LocalJSONSchemaWidget(schema)
        return form

    def has_add_permission(self, request):
        return False  # tickets are submitted through the public form or the services

    @admin.action(description=_("Apply a workflow event (through the service)"))
    def apply_workflow_event(self, request, queryset):
        event = (request.POST.get("event") or "").strip()
        note = request.POST.get("note") or ""
        if not event:
            self.message_user(
                request, gettext("Type the workflow event to apply (e.g. approve)."), messages.ERROR
            )
            return
        done, failed = 0, []
        for ticket in queryset.select_related("ticket_type", "tenant", "lane", "queue", "customer"):
            try:
                services.ticket_transition(
                    tenant=ticket.tenant,
                    actor=request.user,
                    ticket=ticket,
                    event=event,
                    note=note,
                    actor_label="operator",
                )
                done += 1
            except DomainError as error:
                failed.append(f"{ticket.reference}: {error.message}")
        if done:
            self.message_user(
                request,
                ngettext(
                    "Applied “%(event)s” to %(count)s ticket.",
                    "Applied “%(event)s” to %(count)s tickets.",
                    done,
                )
                % {"event": event, "count": done},
                messages.SUCCESS,
            )
        for message in failed:
            self.message_user(request, message, messages.WARNING)


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin):
    list_display = ["ticket", "event", "from_state", "to_state", "actor", "actor_label", "occurred_at"]
    list_filter = ["event", "tenant"]
    search_fields = ["ticket__reference", "note"]
    list_select_related = ["ticket", "actor"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(TicketItem)
class TicketItemAdmin(admin.ModelAdmin):
    """Read-only: items change on the ticket's dashboard page (queues.item_services), which records every
    change in the ticket's history."""

    list_display = ["name", "quantity", "state", "ticket", "tenant"]
    list_filter = ["state", "tenant"]
    search_fields = ["name", "ticket__reference"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TicketComment)
class TicketCommentAdmin(admin.ModelAdmin):
    list_display = ["ticket", "author_user", "author_customer", "is_internal", "created_at", "edited_at"]
    list_filter = ["is_internal", "tenant"]
    search_fields = ["ticket__reference", "body"]
    readonly_fields = ["edit_history", "edited_at"]


@admin.register(TicketAttachment)
class TicketAttachmentAdmin(admin.ModelAdmin):
    list_display = ["original_name", "content_type", "size_bytes", "ticket", "tenant", "created_at"]
    list_filter = ["content_type", "tenant"]
    search_fields = ["original_name", "ticket__reference"]


@admin.register(EtaForecast)
class EtaForecastAdmin(admin.ModelAdmin):
    """Read-only: written and scored by ``queues.accuracy`` only."""

    list_display = ["scope", "scope_id", "item_id", "position", "shown_at", "outcome", "served_at"]
    list_filter = ["scope", "outcome", "calibrated", "tenant"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
