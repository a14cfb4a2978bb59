"""The public "Fair admission" page of an event's waiting room and the admission log download.

Public like the event page (``ticketing.selectors.event_for_public``: a draft event is a 404 in every
tenant). Read-only, no personal data: the log names entries by their pseudonymous ``public_id``. The
entry lookup (``?entry=``) and the download are rate limited per client address like other lookups."""

from __future__ import annotations

import json

from django.db.models.fields.json import KT
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.ratelimit import check_rate, client_address
from core.references import normalize_reference
from tenants.access import get_public_tenant
from ticketing import selectors as ticketing_selectors
from ticketing.texts import status_word
from waitingroom import fairness, selectors, verify
from waitingroom.models import AdmissionRecord, EntryStatus, WaitingRoom, WaitingRoomEntry

RECENT = 50


def _room_or_404(event) -> WaitingRoom:
    from core.errors import NotFound

    room = selectors.room_for_event(event)
    if room is None or not room.draw_commitment:
        raise NotFound(_("This sale has no waiting room with a published admission log."))
    return room


def _entry_check(event, room: WaitingRoom, raw: str) -> dict:
    """What the log says about one entry id: its records, and its place (drawn place, line position)."""
    public_id = normalize_reference(raw)
    if public_id is None:
        return {"error": _("An entry id has 12 letters and digits, like K7Q-4MZ-9XP-2HD.")}
    entry = WaitingRoomEntry.objects.filter(event=event, public_id=public_id).first()
    if entry is None:
        return {
            "error": _("No entry %(id)s in this waiting room's log.") % {"id": public_id},
            "public_id": public_id,
        }
    records = [
        fairness.as_line(record)
        for record in AdmissionRecord.objects.filter(event=event)
        .annotate(entry_id=KT("data__entry"))
        .filter(entry_id=public_id)
        .order_by("seq")
    ]
    label = EntryStatus(entry.status).label
    check = {"public_id": public_id, "records": records, "status": label, "status_word": status_word(label)}
    draw = AdmissionRecord.objects.filter(event=event, kind="draw").values_list("data", flat=True).first()
    if draw and public_id in draw.get("order", []):
        check["drawn_place"] = draw["order"].index(public_id) + 1
        check["drawn_of"] = len(draw["order"])
    if entry.status == EntryStatus.WAITING and (room.shuffled_at is not None or not entry.prequeue):
        check["position"] = selectors.ahead_count(entry) + 1
    return check


def fairness_page(request, tenant_slug, event_slug):
    tenant = get_public_tenant(tenant_slug)
    event = ticketing_selectors.event_for_public(tenant, event_slug)
    room = _room_or_404(event)
    head = fairness.log_head(event.id)
    recent = [
        fairness.as_line(record)
        for record in AdmissionRecord.objects.filter(event=event).order_by("-seq")[:RECENT]
    ]
    context = {
        "tenant": tenant,
        "event": event,
        "room": room,
        "head": head,
        "records": recent,
        "scheme": verify.SCHEME,
        # A shell command, not prose: built here so no translator is asked to translate it.
        "verify_command": f"python -m waitingroom.verify admission-log-event-{event.id}.jsonl"
        + (f" --head {head.hash}" if head else ""),
        "entry_query": request.GET.get("entry", "").strip()[:40],
    }
    if context["entry_query"]:
        check_rate("waitingroom-lookup", client_address(request))
        context["check"] = _entry_check(event, room, context["entry_query"])
    return render(request, "waitingroom/fairness.html", context)


def fairness_log(request, tenant_slug, event_slug):
    """The whole log as JSON lines (one record per line, in the verifier's canonical form + hash)."""
    tenant = get_public_tenant(tenant_slug)
    event = ticketing_selectors.event_for_public(tenant, event_slug)
    _room_or_404(event)
    check_rate("waitingroom-lookup", client_address(request))
    lines = (
        json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n"
        for line in fairness.log_lines(event.id)
    )
    response = StreamingHttpResponse(lines, content_type="application/x-ndjson; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="admission-log-event-{event.id}.jsonl"'
    return response
