"""Waiting-room pages. Public: the room's front door (join as a signed-in user, or by an emailed link that
verifies the address), the person's place in line (live over a websocket, polling fallback), leave.
Dashboard: the events' rooms and one room's live counts, admission rate, settings and pause/resume.
State changes only on POST; services do all writes. Page loads and polls count as "seen" (Redis)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.mail import send_mail
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.forms import show_domain_error
from core.holders import browser_key, is_holder
from core.ratelimit import check_rate, client_address, normalized_email
from core.scope_language import with_language
from core.signing import sign, unsign
from core.tenancy import get_for_tenant
from queues.accuracy import accuracy_context, note_shown
from tenants.access import get_public_tenant, member_required
from tenants.models import Role
from tenants.services import customer_upsert
from ticketing import selectors as ticketing_selectors
from ticketing.events import availability_text
from ticketing.models import Event
from waitingroom import seen, selectors, services
from waitingroom.events import room_group
from waitingroom.forms import EmailJoinForm, SettingsForm
from waitingroom.models import EntryStatus, WaitingRoom

JOIN_SALT = "waitingroom.join"
JOIN_LINK_MAX_AGE = 30 * 60
COOKIE_MAX_AGE = 2 * 24 * 3600


def cookie_name(event_id: int) -> str:
    return f"vq_wr_{event_id}"


def _room_or_404(event: Event) -> WaitingRoom:
    room = selectors.room_for_event(event)
    if room is None or not event.waiting_room_enabled:
        raise NotFound(_("This sale has no waiting room."))
    return room


def _entry_redirect(tenant, entry):
    response = redirect("waitingroom_public:entry", tenant_slug=tenant.slug, token=entry.token)
    response.set_cookie(
        cookie_name(entry.event_id), entry.token, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax"
    )
    return response


# --- public ---------------------------------------------------------------------------------------


def room_page(request, tenant_slug, event_slug):
    """The front door: rules, and a way in (signed in: one button; otherwise an emailed link)."""
    tenant = get_public_tenant(tenant_slug)
    event = ticketing_selectors.event_for_public(tenant, event_slug)
    room = _room_or_404(event)
    now = timezone.now()
    token = request.COOKIES.get(cookie_name(event.id))
    if token and request.method == "GET":
        entry = selectors.entry_for_public_or_none(tenant, token)
        if (
            entry is not None
            and _holds(request, entry)
            and selectors.effective_status(entry, room, now)
            in (
                EntryStatus.WAITING,
                EntryStatus.ADMITTED,
            )
        ):
            return redirect("waitingroom_public:entry", tenant_slug=tenant.slug, token=entry.token)
    form = EmailJoinForm(request.POST or None)
    status = 200
    if request.method == "POST":
        check_rate("waitingroom-join", client_address(request), "10/60")
        if request.user.is_authenticated and "as_user" in request.POST:
            try:
                entry, created = services.waiting_room_join(
                    tenant=tenant, event=event, user=request.user, holder_key=browser_key(request)
                )
            except Conflict as error:
                messages.error(request, error.message)
                return redirect("waitingroom_public:room", tenant_slug=tenant.slug, event_slug=event.slug)
            if not created:
                messages.info(request, _("You were already in line: here is your place."))
            return _entry_redirect(tenant, entry)
        if form.is_valid():
            # Each join link is an email we send: limited per address (above) and per email address.
            check_rate(
                "waitingroom-join:email",
                normalized_email(form.cleaned_data["email"]),
                settings.RATE_LIMIT_SUBMISSIONS_PER_EMAIL,
            )
            signed = sign(
                {"ev": event.id, "email": form.cleaned_data["email"], "name": form.cleaned_data["name"]},
                salt=JOIN_SALT,
            )
            link = request.build_absolute_uri(
                reverse(
                    "waitingroom_public:verify",
                    kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug, "signed": signed},
                )
            )
            send_mail(
                _("Your link to the waiting room for %(event)s") % {"event": event.title},
                _("Open this link within 30 minutes to take your place in line for %(event)s:")
                % {"event": event.title}
                + f"\n\n{link}\n\n"
                + _("If you did not ask for it, ignore this email."),
                None,
                [form.cleaned_data["email"]],
            )
            return render(
                request,
                "waitingroom/link_sent.html",
                {"tenant": tenant, "event": event, "email": form.cleaned_data["email"]},
            )
        status = 422
    return render(
        request,
        "waitingroom/room.html",
        {
            "tenant": tenant,
            "event": event,
            "room": room,
            "form": form,
            "is_open": selectors.is_open(room, now),
            "opens_at": room.effective_opens_at(),
        },
        status=status,
    )


def verify(request, tenant_slug, event_slug, signed):
    """The emailed link: GET shows a button (link scanners must not join anyone), POST joins."""
    tenant = get_public_tenant(tenant_slug)
    event = ticketing_selectors.event_for_public(tenant, event_slug)
    _room_or_404(event)
    payload = unsign(signed, salt=JOIN_SALT, max_age_seconds=JOIN_LINK_MAX_AGE)
    if payload.get("ev") != event.id:
        raise NotFound(_("This link is for another event."))
    if request.method == "POST":
        check_rate("waitingroom-join", client_address(request), "10/60")
        customer = customer_upsert(
            tenant=tenant,
            email=payload["email"],
            name=payload.get("name", ""),
            user=request.user if request.user.is_authenticated else None,
            verified=True,  # the signed link was sent to this address
        )
        try:
            entry, created = services.waiting_room_join(
                tenant=tenant, event=event, customer=customer, holder_key=browser_key(request)
            )
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("waitingroom_public:room", tenant_slug=tenant.slug, event_slug=event.slug)
        if not created:
            messages.info(request, _("You were already in line: here is your place."))
        return _entry_redirect(tenant, entry)
    return render(
        request, "waitingroom/verify.html", {"tenant": tenant, "event": event, "email": payload["email"]}
    )


def _entry_context(request, tenant, entry) -> dict:
    now = timezone.now()
    event = entry.event
    room = event.waiting_room
    status = selectors.effective_status(entry, room, now)
    state = selectors.room_state(event.id, now)
    context = {
        "tenant": tenant,
        "event": event,
        "room": room,
        "entry": entry,
        "status": status,
        "status_label": EntryStatus(status).label,
        "sold_out": state["sold_out"],
        "paused": state["paused"],
        "rate": state["rate"],
        "is_open": selectors.is_open(room, now),
        "drawn": room.shuffled_at is not None,
        "socket_path": with_language(f"/ws/waitingroom/{entry.token}/"),
        "waitlist_url": reverse(
            "waitlists_public:join", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug}
        ),
    }
    if status == EntryStatus.WAITING:
        if entry.prequeue and not context["drawn"]:
            context["ahead"] = None
        else:
            ahead = selectors.ahead_count(entry)
            shown = selectors.eta_shown(ahead, state)
            context.update(ahead=ahead, position=ahead + 1, eta=shown.text, eta_calibrated=shown.calibrated)
            # ETA accuracy: note the range shown at this position (Redis only; scored when admitted).
            note_shown(
                scope="room",
                scope_id=event.id,
                tenant_id=entry.tenant_id,
                item_id=entry.pk,
                forecast=shown.forecast,
            )
    if status == EntryStatus.ADMITTED:
        session = selectors.entry_session(entry)
        if session is not None and session.is_live(now):
            context["checkout_token"] = session.token
        else:
            context["admission"] = services.admission_token(entry, now)
            tiers = ticketing_selectors.tiers_with_availability(event, now=now)
            for tier in tiers:
                tier.available_text = availability_text(tier.live_available)
                tier.choices = range(
                    0, max(0, min(tier.max_per_order, tier.live_available, event.per_order_max)) + 1
                )
            context["tiers"] = tiers
    return context


def _holds(request, entry) -> bool:
    return is_holder(request, holder_key=entry.holder_key, user_id=entry.user_id)


def _refuse_other_browser(request, tenant, entry):
    """A place-in-line link opened in another browser than the one that joined: refused with a page that
    says so; the holder's place (seen, position, admission) is not touched and nothing of it is shown."""
    return render(
        request,
        "waitingroom/entry_elsewhere.html",
        {"tenant": tenant, "event": entry.event},
        status=403,
    )


def entry_page(request, tenant_slug, token):
    tenant = get_public_tenant(tenant_slug)
    check_rate("waitingroom-lookup", client_address(request))
    entry = selectors.entry_for_public(tenant, token)
    if not _holds(request, entry):
        return _refuse_other_browser(request, tenant, entry)
    seen.mark_seen(entry.event_id, entry.pk)
    response = render(request, "waitingroom/entry.html", _entry_context(request, tenant, entry))
    response.set_cookie(
        cookie_name(entry.event_id), entry.token, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax"
    )
    return response


def entry_status(request, tenant_slug, token):
    """Polling fallback (JSON, same fields as the websocket). Also counts as being seen."""
    tenant = get_public_tenant(tenant_slug)
    check_rate("waitingroom-lookup", client_address(request))
    entry = selectors.entry_for_public(tenant, token)
    if not _holds(request, entry):
        return JsonResponse({"error": "This place in line belongs to another browser."}, status=403)
    seen.mark_seen(entry.event_id, entry.pk)
    context = _entry_context(request, tenant, entry)
    fields = {"status": context["status_label"]}
    if context.get("ahead") is not None:
        fields.update(position=str(context["position"]), ahead=str(context["ahead"]), eta=context["eta"])
    return JsonResponse({"status": context["status"], "sold_out": context["sold_out"], "fields": fields})


@require_POST
def leave(request, tenant_slug, token):
    tenant = get_public_tenant(tenant_slug)
    check_rate("waitingroom-lookup", client_address(request))
    entry = selectors.entry_for_public(tenant, token)
    if not _holds(request, entry):
        return _refuse_other_browser(request, tenant, entry)
    entry = services.waiting_room_leave(tenant=tenant, entry=entry)
    messages.success(request, _("You left the waiting room."))
    response = redirect("waitingroom_public:entry", tenant_slug=tenant.slug, token=entry.token)
    return response


# --- dashboard ------------------------------------------------------------------------------------


@member_required(Role.STAFF)
def dashboard_rooms(request):
    events = list(
        Event.objects.for_tenant(request.tenant)
        .exclude(status__in=["cancelled", "ended"])
        .order_by("starts_at")
    )
    rooms = {room.event_id: room for room in selectors.rooms_for_tenant(request.tenant)}
    rows = [(event, rooms.get(event.id)) for event in events]
    return render(request, "waitingroom/dash_rooms.html", {"rows": rows})


def _settings_initial(event: Event, room: WaitingRoom | None) -> dict:
    room = room or WaitingRoom()
    opens = timezone.localtime(room.opens_at, event.zone).replace(tzinfo=None) if room.opens_at else None
    return {
        "enabled": event.waiting_room_enabled,
        "opens_at": opens,
        "admission_minutes": room.admission_minutes,
        "unseen_minutes": room.unseen_minutes,
        "cooldown_minutes": room.cooldown_minutes,
        "prequeue_shuffle": room.prequeue_shuffle,
    }


@member_required(Role.STAFF)
def dashboard_room(request, event_id):
    event = get_for_tenant(Event, request.tenant, pk=event_id)
    room = selectors.room_for_event(event)
    form = SettingsForm(initial=_settings_initial(event, room))
    status = 200
    if request.method == "POST":
        if not request.membership.has_role(Role.MANAGER):
            raise PermissionDenied(_("Changing waiting-room settings needs the manager role or higher."))
        form = SettingsForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            if data["opens_at"] is not None:
                data["opens_at"] = timezone.make_aware(data["opens_at"].replace(tzinfo=None), event.zone)
            enabled = data.pop("enabled")
            try:
                services.waiting_room_configure(
                    tenant=request.tenant, actor=request.user, event=event, enabled=enabled, **data
                )
            except ValidationError as error:
                show_domain_error(form, error)
            else:
                messages.success(request, _("Waiting-room settings saved."))
                return redirect("waitingroom:room", tenant_slug=request.tenant.slug, event_id=event.id)
        status = 422
    context = {
        "event": event,
        "room": room,
        "form": form,
        "can_manage": request.membership.has_role(Role.MANAGER),
        "socket_path": with_language(f"/ws/waitingroom/staff/{request.tenant.id}/{event.id}/"),
        "group": room_group(request.tenant.id, event.id),
    }
    if room is not None:
        context["counts"] = selectors.staff_counts(event)
        context.update(
            accuracy_context(
                scope="room",
                scope_id=event.id,
                title=_("ETA hit rate per day, %(event)s") % {"event": event.title},
            )
        )
        context["public_url"] = reverse(
            "waitingroom_public:room", kwargs={"tenant_slug": request.tenant.slug, "event_slug": event.slug}
        )
    return render(request, "waitingroom/dash_room.html", context, status=status)


@member_required(Role.STAFF)
@require_POST
def dashboard_pause(request, event_id):
    event = get_for_tenant(Event, request.tenant, pk=event_id)
    paused = request.POST.get("paused") == "1"
    services.waiting_room_pause(tenant=request.tenant, actor=request.user, event=event, paused=paused)
    messages.success(request, _("Admission paused.") if paused else _("Admission resumed."))
    return redirect("waitingroom:room", tenant_slug=request.tenant.slug, event_id=event.id)


@member_required(Role.STAFF)
@require_POST
def dashboard_admit(request, event_id):
    event = get_for_tenant(Event, request.tenant, pk=event_id)
    _room_or_404(event)
    admitted = services.waiting_room_admit(event_id=event.id)
    messages.info(
        request,
        ngettext("Let %(count)s person in.", "Let %(count)s people in.", len(admitted))
        % {"count": len(admitted)}
        if admitted
        else _("No free checkout places right now."),
    )
    return redirect("waitingroom:room", tenant_slug=request.tenant.slug, event_id=event.id)
