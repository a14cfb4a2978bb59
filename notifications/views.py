"""Notification pages: the staff delivery log, "retry now", preferences (staff: their own; anyone: through
the signed link in an email) and unsubscribe. Views authorise and call services; state changes only on
POST (the unsubscribe link's GET only shows a confirmation)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.ratelimit import check_rate, client_address
from notifications import services
from notifications.channels import webhook_body
from notifications.forms import PreferencesForm, UnsubscribeForm
from notifications.links import resolve_token
from notifications.models import OutboxStatus
from notifications.selectors import message_for_tenant, messages_for_tenant, parse_related
from notifications.types import CUSTOMER_EVENTS, STAFF_EVENTS, Channel, EventType
from tenants.access import member_required
from tenants.models import Role


@member_required(Role.STAFF)
def delivery_log(request):
    related_text = request.GET.get("related", "")
    related = parse_related(related_text)
    status = request.GET.get("status", "")
    status = status if status in OutboxStatus.values else ""
    channel = request.GET.get("channel", "")
    channel = channel if channel in Channel.values else ""
    queryset = messages_for_tenant(request.tenant, related=related, status=status, channel=channel)
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/log.html",
        {
            "page": page,
            "delivery_log": page.object_list,
            "related_text": related_text if related else "",
            "status": status,
            "channel": channel,
            "statuses": OutboxStatus.choices,
            "channels": Channel.choices,
        },
    )


@member_required(Role.STAFF)
def message_detail(request, message_id: int):
    message = message_for_tenant(request.tenant, message_id)
    is_manager = request.membership.has_role(Role.MANAGER)
    webhook = message.channel == Channel.WEBHOOK
    return render(
        request,
        "notifications/message.html",
        {
            "message_row": message,
            "attempts": list(message.delivery_attempts.all()),
            "can_retry": is_manager and not webhook and message.status != OutboxStatus.SENT,
            "can_redeliver": is_manager and webhook and message.endpoint.is_active,
            "webhook_body": webhook_body(message).decode() if webhook else "",
        },
    )


@member_required(Role.MANAGER)
@require_POST
def message_retry_view(request, message_id: int):
    services.message_retry(tenant=request.tenant, actor=request.user, message_id=message_id)
    messages.success(request, _("The message will be sent again shortly."))
    return redirect("notifications:message", tenant_slug=request.tenant.slug, message_id=message_id)


@member_required(Role.STAFF)
def my_preferences(request):
    tenant = request.tenant
    switches = services.preferences_for(tenant=tenant, user=request.user)
    form = PreferencesForm(request.POST or None, switches=switches)
    if request.method == "POST" and form.is_valid():
        services.preferences_update(tenant=tenant, user=request.user, choices=form.choices())
        messages.success(request, _("Your notification choices are saved."))
        return redirect("notifications:preferences", tenant_slug=tenant.slug)
    return render(request, "notifications/my_preferences.html", {"form": form})


def _person_from_link(request, token: str) -> dict:
    check_rate("notifications-link", client_address(request))
    return resolve_token(token)


def unsubscribe(request, token: str):
    """GET shows what will stop and asks to confirm; POST (CSRF) stores the opt-out."""
    person = _person_from_link(request, token)
    event_type = person["event_type"] if person["event_type"] in EventType.values else ""
    form = UnsubscribeForm(request.POST or None)
    if not event_type:
        form.fields["scope"].initial = "all"
    done = False
    if request.method == "POST" and form.is_valid():
        owner = {"customer": person["customer"]} if person["customer"] else {"user": person["user"]}
        events = CUSTOMER_EVENTS if person["customer"] else STAFF_EVENTS
        if form.cleaned_data["scope"] == "event" and event_type:
            chosen = [event_type]
        else:
            chosen = [e for e in EventType.values if e in events]
        services.preferences_update(
            tenant=person["tenant"], choices={(e, Channel.EMAIL.value): False for e in chosen}, **owner
        )
        done = True
    return render(
        request,
        "notifications/unsubscribe.html",
        {
            "form": form,
            "done": done,
            "tenant": person["tenant"],
            "event_label": EventType(event_type).label if event_type else "",
            "token": token,
        },
    )


def preferences_by_link(request, token: str):
    person = _person_from_link(request, token)
    owner = {"customer": person["customer"]} if person["customer"] else {"user": person["user"]}
    switches = services.preferences_for(tenant=person["tenant"], **owner)
    form = PreferencesForm(request.POST or None, switches=switches)
    saved = False
    if request.method == "POST" and form.is_valid():
        services.preferences_update(tenant=person["tenant"], choices=form.choices(), **owner)
        saved = True
    return render(
        request,
        "notifications/preferences_public.html",
        {
            "form": form,
            "saved": saved,
            "tenant": person["tenant"],
            "customer": person["customer"],
            "token": token,
        },
    )
