"""Pages of "Create your space": the space itself (/start/), the live address check, what the space runs
(/dashboard/<tenant>/setup/…), the share page of each new public page, and the owner's security setting.

Every state change is a POST calling a service; the address check is a GET that only reads.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from core.errors import NotFound, ValidationError
from core.forms import show_domain_error
from core.qr import qr_svg
from core.ratelimit import check_rate, client_address
from onboarding import forms, services, setup
from onboarding.selectors import members_two_factor, slug_check
from queues.models import Queue, QueueKind
from tenants.access import member_required
from tenants.models import Role
from ticketing.models import Event

SLUG_CHECK_RATE = "60/60"

KINDS = {
    "creator": (gettext_lazy("A creator queue"), gettext_lazy("Fans send requests in a free personal lane or a paid priority lane; you approve them.")),  # noqa: E501
    "service": (gettext_lazy("A service queue"), gettext_lazy("Walk-in or remote lines: people take a number and follow their ticket's steps.")),  # noqa: E501
    "event": (gettext_lazy("An event"), gettext_lazy("A venue, a date and ticket tiers, on sale at once.")),
    "help-desk": (gettext_lazy("A help desk"), gettext_lazy("People file tickets; you answer within your promised time.")),  # noqa: E501
}  # fmt: skip


@login_required
def start(request):
    """Step 1: the account (billing entity) and the tenant."""
    form = forms.SpaceForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid() and form.already_created is not None:
        return redirect("onboarding:setup", tenant_slug=form.already_created.slug)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            tenant = services.space_create(
                actor=request.user,
                account_name=data["account_name"],
                billing_email=data["billing_email"],
                name=data["name"],
                slug=data["slug"],
                time_zone=data["time_zone"],
                currency=data["currency"],
                language=data["language"],
            )
        except ValidationError as error:
            show_domain_error(form, error)
        else:
            messages.success(
                request, _("%(name)s is yours. Now choose what it runs.") % {"name": tenant.name}
            )
            return redirect("onboarding:setup", tenant_slug=tenant.slug)
    return render(request, "onboarding/start.html", {"form": form})


@require_GET
def address_check(request):
    """``?slug=`` → ``{"slug", "available", "message"}``. Reads only; rate limited per client address."""
    check_rate("onboarding-slug", client_address(request), SLUG_CHECK_RATE)
    check = slug_check(request.GET.get("slug", "")[:100])
    return JsonResponse({"slug": check.slug, "available": check.available, "message": check.message})


@member_required(Role.MANAGER)
def setup_home(request):
    return render(request, "onboarding/setup.html", {"tenant": request.tenant, "kinds": KINDS})


FORMS = {
    "creator": forms.CreatorQueueForm,
    "service": forms.ServiceQueueForm,
    "event": forms.EventForm,
    "help-desk": forms.HelpDeskForm,
}


def _open(kind: str, request, data: dict):
    tenant, actor = request.tenant, request.user
    if kind == "creator":
        queue = setup.creator_queue_open(
            tenant=tenant,
            actor=actor,
            name=data["name"],
            slug=data["slug"],
            minimum_tip_cents=data["minimum_tip"],
            priority_enabled=data["priority_enabled"],
            personal_enabled=data["personal_enabled"],
        )
        return queue.slug
    if kind == "service":
        queue = setup.service_queue_open(
            tenant=tenant,
            actor=actor,
            name=data["name"],
            slug=data["slug"],
            ticket_type=data["ticket_type"],
            new_type_name=data["new_type_name"],
            new_type_steps=data["steps"],
            default_service_minutes=data["default_service_minutes"],
        )
        return queue.slug
    if kind == "event":
        event = setup.event_open(
            tenant=tenant,
            actor=actor,
            venue_name=data["venue_name"],
            venue_city=data["venue_city"],
            venue_address=data["venue_address"],
            venue_capacity=data["venue_capacity"],
            title=data["title"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            tiers=[setup.TierSpec(name, price, quantity) for name, price, quantity in data["tiers"]],
        )
        return event.slug
    queue = setup.help_desk_open(
        tenant=tenant,
        actor=actor,
        name=data["name"],
        slug=data["slug"],
        turnaround_hours=data["turnaround_hours"],
    )
    return queue.slug


@member_required(Role.MANAGER)
def setup_kind(request, kind: str):
    if kind not in FORMS:
        raise NotFound()
    form = FORMS[kind](request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            slug = _open(kind, request, form.cleaned_data)
        except ValidationError as error:
            show_domain_error(form, error)
        else:
            return redirect("onboarding:share", tenant_slug=request.tenant.slug, kind=kind, slug=slug)
    title, blurb = KINDS[kind]
    return render(
        request,
        "onboarding/setup_form.html",
        {"tenant": request.tenant, "form": form, "kind": kind, "title": title, "blurb": blurb},
    )


def public_path(tenant, kind: str, slug: str) -> tuple[str, str]:
    """(path, name) of the live public page of what was set up; NotFound outside ``tenant``."""
    if kind == "event":
        event = Event.objects.filter(tenant=tenant, slug=slug).first()
        if event is None:
            raise NotFound()
        return reverse("ticketing_public:event", args=[tenant.slug, event.slug]), event.title
    wanted = {"creator": QueueKind.CREATOR, "service": QueueKind.SERVICE, "help-desk": QueueKind.SUPPORT}
    if kind not in wanted:
        raise NotFound()
    queue = Queue.objects.filter(tenant=tenant, slug=slug, kind=wanted[kind]).first()
    if queue is None:
        raise NotFound()
    name = "support_public:submit" if kind == "help-desk" else "queues_public:submit"
    return reverse(name, args=[tenant.slug, queue.slug]), queue.name


@member_required(Role.MANAGER)
def share(request, kind: str, slug: str):
    path, name = public_path(request.tenant, kind, slug)
    url = f"{settings.SITE_URL}{path}"
    return render(
        request,
        "onboarding/share.html",
        {
            "tenant": request.tenant,
            "kind": kind,
            "title": KINDS[kind][0],
            "name": name,
            "path": path,
            "url": url,
            "qr": qr_svg(url, title=_("QR code of %(url)s") % {"url": url}, scale=6),
        },
    )


@member_required(Role.OWNER)
def security(request):
    """The owner's two-factor requirement for the tenant's members."""
    tenant = request.tenant
    form = forms.SecurityForm(request.POST or None, initial={"require_two_factor": tenant.require_two_factor})
    if request.method == "POST" and form.is_valid():
        try:
            services.tenant_two_factor_require(
                tenant=tenant, actor=request.user, required=form.cleaned_data["require_two_factor"]
            )
        except ValidationError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("onboarding:security", tenant_slug=tenant.slug)
    return render(
        request,
        "onboarding/security.html",
        {"tenant": tenant, "form": form, "members": members_two_factor(tenant)},
    )
