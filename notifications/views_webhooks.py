"""Webhook endpoint pages: list, add, edit, disable / enable, rotate the secret, the delivery log, and
redelivery. Staff read (the log included); managers and owners change things. Views authorise and call
``notifications.webhooks.services``; every change is a POST with CSRF.

A secret is shown in full once: the page after creating or rotating it pops a one-time flag from the
session (the secret itself never goes into the session) and shows it; every later view shows a hint.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import ValidationError
from core.forms import show_domain_error
from notifications.models import OutboxStatus
from notifications.webhooks import services
from notifications.webhooks.catalogue import WebhookEvent
from notifications.webhooks.forms import EndpointForm
from notifications.webhooks.selectors import endpoint_deliveries, endpoint_for_tenant, endpoints_for_tenant
from tenants.access import member_required
from tenants.models import Role


def _secret_flag(endpoint_id: int) -> str:
    return f"webhook-secret-once-{endpoint_id}"


def _to_endpoint(request, endpoint_id: int):
    return redirect("notifications:webhook", tenant_slug=request.tenant.slug, endpoint_id=endpoint_id)


@member_required(Role.STAFF)
def endpoint_list(request):
    return render(
        request,
        "notifications/webhooks/list.html",
        {
            "endpoints": list(endpoints_for_tenant(request.tenant)),
            "can_manage": request.membership.has_role(Role.MANAGER),
        },
    )


@member_required(Role.MANAGER)
def endpoint_create_view(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.endpoint_create(
                tenant=request.tenant,
                actor=request.user,
                url=form.cleaned_data["url"],
                event_types=form.cleaned_data["event_types"],
                description=form.cleaned_data["description"],
                creation_token=form.cleaned_data["creation_token"],
            )
        except ValidationError as error:
            show_domain_error(form, error)
        else:
            if not request.session.get(f"webhook-created-{endpoint.pk}"):
                # Only the first submit of the form reveals the secret.
                request.session[f"webhook-created-{endpoint.pk}"] = True
                request.session[_secret_flag(endpoint.pk)] = True
            messages.success(
                request, _("Endpoint added. Copy its signing secret now: it is shown only once.")
            )
            return _to_endpoint(request, endpoint.pk)
    return render(request, "notifications/webhooks/form.html", {"form": form, "endpoint": None})


@member_required(Role.MANAGER)
def endpoint_edit_view(request, endpoint_id: int):
    endpoint = endpoint_for_tenant(request.tenant, endpoint_id)
    initial = {"url": endpoint.url, "description": endpoint.description, "event_types": endpoint.event_types}
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(
                tenant=request.tenant,
                actor=request.user,
                endpoint_id=endpoint.pk,
                url=form.cleaned_data["url"],
                event_types=form.cleaned_data["event_types"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, _("Endpoint saved."))
            return _to_endpoint(request, endpoint.pk)
    return render(request, "notifications/webhooks/form.html", {"form": form, "endpoint": endpoint})


@member_required(Role.STAFF)
def endpoint_detail(request, endpoint_id: int):
    endpoint = endpoint_for_tenant(request.tenant, endpoint_id)
    can_manage = request.membership.has_role(Role.MANAGER)
    show_secret = can_manage and request.session.pop(_secret_flag(endpoint.pk), False)
    status = request.GET.get("status", "")
    status = status if status in OutboxStatus.values else ""
    page = Paginator(endpoint_deliveries(endpoint, status=status), 50).get_page(request.GET.get("page"))
    labels = dict(WebhookEvent.choices)
    return render(
        request,
        "notifications/webhooks/detail.html",
        {
            "endpoint": endpoint,
            "events": [(value, labels.get(value, value)) for value in endpoint.event_types],
            "show_secret": show_secret,
            "can_manage": can_manage,
            "page": page,
            "deliveries": page.object_list,
            "status": status,
            "statuses": OutboxStatus.choices,
        },
    )


@member_required(Role.MANAGER)
@require_POST
def endpoint_disable_view(request, endpoint_id: int):
    services.endpoint_disable(tenant=request.tenant, actor=request.user, endpoint_id=endpoint_id)
    messages.success(
        request, _("Endpoint disabled. Events waiting for it were not sent; nothing new is queued.")
    )
    return _to_endpoint(request, endpoint_id)


@member_required(Role.MANAGER)
@require_POST
def endpoint_enable_view(request, endpoint_id: int):
    services.endpoint_enable(tenant=request.tenant, actor=request.user, endpoint_id=endpoint_id)
    messages.success(request, _("Endpoint enabled. New events go to it; redeliver what it missed below."))
    return _to_endpoint(request, endpoint_id)


@member_required(Role.MANAGER)
@require_POST
def endpoint_rotate_view(request, endpoint_id: int):
    endpoint = services.endpoint_rotate_secret(
        tenant=request.tenant, actor=request.user, endpoint_id=endpoint_id
    )
    request.session[_secret_flag(endpoint.pk)] = True
    messages.success(request, _("New signing secret made. Copy it now: it is shown only once."))
    return _to_endpoint(request, endpoint.pk)


@member_required(Role.MANAGER)
@require_POST
def redeliver_view(request, message_id: int):
    message = services.webhook_redeliver(tenant=request.tenant, actor=request.user, message_id=message_id)
    messages.success(request, _("The event will be sent again shortly, with the same webhook-id."))
    return _to_endpoint(request, message.endpoint_id)
