"""What a status-page watcher knows and how it follows a queue without querying the database.

A :class:`StatusWatch` starts from one consistent read at connect (:func:`read_status_state`) and then
applies each queue broadcast (see ``queues.events``): queue-level numbers are replaced when the
broadcast is newer (lane versions only grow), and the watcher's lane rank moves by one for every ticket
removed from or added to its lane ahead of it, applied strictly in lane-version order. A gap that does
not close within a few messages asks the page to reload ("resync") rather than show a wrong number.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from django.conf import settings
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext

from core.references import normalize_reference
from queues import positions
from queues import workflow as wf
from queues.eta import calibration_bounds

MAX_GAP_MESSAGES = 3


def in_each_language(build) -> dict[str, str]:
    """``build()`` worded in every language of the site: a broadcast is read by watchers in any of them,
    so the words travel with it (a watcher picks its own, see :func:`pick`)."""
    texts = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts[code] = str(build())
    return texts


def pick(texts, language: str) -> str:
    """The text of ``texts`` (one per language, or a plain string) for ``language``."""
    if isinstance(texts, str):
        return texts
    language = (language or "").lower()
    found = texts.get(language) or texts.get(language.split("-")[0]) or texts.get(settings.LANGUAGE_CODE)
    return found if found is not None else next(iter(texts.values()), "")


def scope_language(scope) -> str:
    """The language a live page was rendered in: the language cookie, else the browser's
    Accept-Language, else the site's default (as LocaleMiddleware chooses for the page itself)."""
    headers = dict(scope.get("headers") or [])
    candidates = []
    try:
        cookie = SimpleCookie(headers.get(b"cookie", b"").decode("latin-1")).get(
            settings.LANGUAGE_COOKIE_NAME
        )
    except CookieError:
        cookie = None
    if cookie is not None:
        candidates.append(cookie.value)
    accept = headers.get(b"accept-language", b"").decode("latin-1")[:200]
    candidates += [
        code for code, _q in translation.trans_real.parse_accept_lang_header(accept) if code != "*"
    ]
    for code in candidates:
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


def phase_text(phase: str, *, expired: bool, tenant_name: str) -> str:
    if expired:
        return gettext("This request waited longer than the queue's time limit and has expired.")
    if phase == wf.PENDING:
        return gettext("Waiting for %(tenant)s to review it.") % {"tenant": tenant_name}
    return {
        wf.WAITING: gettext("You are in line."),
        wf.SERVING: gettext("It is your turn — being handled now."),
        wf.DONE: gettext("Done. Thank you!"),
    }.get(phase, gettext("This request is closed."))


def eta_basis_text(basis: str | None, *, in_line: bool) -> str:
    if not in_line:
        return ""
    return {
        "history": gettext(
            "From the last few requests served (too few served yet to check how accurate it is)."
        ),
        "configured": gettext("From the queue's usual time per request."),
        "calibrated": gettext(
            "From recent waits, and checked: it is tuned so 8 in 10 people are served within it."
        ),
    }.get(basis or "", gettext("There is no history yet to estimate from."))


def read_status_state(reference: str) -> dict | None:
    """Everything a status watcher needs, read consistently (the lane rank and the lane version in one
    statement, so they describe the same moment). None for an unknown reference."""
    from queues.models import Lane, Ticket

    normalized = normalize_reference(reference)
    if normalized is None:
        return None
    ticket = Ticket.objects.select_related("queue", "lane", "tenant").filter(reference=normalized).first()
    if ticket is None:
        return None
    from queues.selectors import RANK_SQL, rank_params

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT l.version, {RANK_SQL} FROM queues_lane l WHERE l.id = %(lane)s",
            rank_params(ticket.lane_id, ticket.lane_sequence),
        )
        lane_version, rank = cursor.fetchone()
    queue = ticket.queue
    lanes = list(Lane.objects.filter(queue=queue).order_by("display_order", "id"))
    return {
        "ticket": ticket.pk,
        "tenant": ticket.tenant_id,
        "tenant_name": ticket.tenant.name,
        "queue": queue.pk,
        "lane": ticket.lane_id,
        "lane_name": ticket.lane.name,
        "sequence": ticket.lane_sequence,
        "state": ticket.state,
        "state_label": in_each_language(lambda: ticket.state_label),
        "phase": ticket.phase,
        "turn": ticket.turn_label,
        "expired": ticket.is_expired(timezone.now()),
        "rank": rank,
        "lane_version": lane_version,
        "lanes": [{"id": lane.pk, "waiting": lane.waiting_count, "version": lane.version} for lane in lanes],
        "cycle": positions.build_cycle([(lane.pk, lane.weight) for lane in lanes]),
        "phase_index": queue.interleave_phase,
        "eta": {
            "average": queue.service_seconds_average,
            "spread": queue.service_seconds_spread,
            "samples": queue.service_samples,
            "default_minutes": queue.default_service_minutes,
            "calibration": calibration_bounds(queue.eta_calibration),
        },
    }


class StatusWatch:
    """``language``: the watcher's page language; the texts it sends are worded in it (the consumer
    activates it around :meth:`apply` and :meth:`fields`)."""

    def __init__(self, state: dict, language: str = ""):
        self.language = language or settings.LANGUAGE_CODE
        self.ticket_id = state["ticket"]
        self.queue_id = state.get("queue")
        self.tenant_id = state.get("tenant")
        self.tenant_name = state["tenant_name"]
        self.lane = state["lane"]
        self.lane_name = state["lane_name"]
        self.sequence = state["sequence"]
        self.state = state["state"]
        self.state_label = state["state_label"]
        self.phase = state["phase"]
        self.turn = state["turn"]
        self.expired = state["expired"]
        self.rank = state["rank"]
        self.lane_version = state["lane_version"]
        self.waiting = {lane["id"]: lane["waiting"] for lane in state["lanes"]}
        self.seen_total = sum(lane["version"] for lane in state["lanes"])
        self.cycle = list(state["cycle"])
        self.phase_index = state["phase_index"]
        self.eta = dict(state["eta"])
        self.pending: dict[int, dict] = {}
        self.shown = None  # the last ETA forecast fields() produced (noted for accuracy by the consumer)
        self.gap_messages = 0
        self.history_add: list[str] = []

    def apply(self, payload: dict) -> dict:
        """Apply one queue broadcast; return the message for the browser."""
        total = sum(lane["version"] for lane in payload.get("lanes", []))
        if total >= self.seen_total:
            self.seen_total = total
            self.waiting = {lane["id"]: lane["waiting"] for lane in payload["lanes"]}
            self.cycle = list(payload["cycle"])
            self.phase_index = payload["phase"]
            self.eta = dict(payload["eta"])
        for ticket in payload.get("tickets", []):
            if ticket["id"] != self.ticket_id:
                continue
            self.state, self.state_label, self.phase = ticket["state"], ticket["state_label"], ticket["phase"]
            self.lane, self.lane_name, self.turn = ticket["lane"], ticket["lane_name"], ticket["turn"]
            self.expired = False
            if ticket.get("history"):
                self.history_add.append(pick(ticket["history"], self.language))
            if ticket["rank"] is not None and ticket["version"] is not None:
                self.rank, self.lane_version = ticket["rank"], ticket["version"]
                self.pending = {v: c for v, c in self.pending.items() if v > self.lane_version}
        for change in payload.get("changes", []):
            if change["lane"] == self.lane and change["version"] > self.lane_version:
                self.pending[change["version"]] = change
        while self.lane_version + 1 in self.pending:
            change = self.pending.pop(self.lane_version + 1)
            if change["removed"] is not None and change["removed"] < self.sequence:
                self.rank -= 1
            if change["added"] is not None and change["added"] < self.sequence:
                self.rank += 1
            self.lane_version += 1
        if self.pending and self.phase == wf.WAITING:
            self.gap_messages += 1
            if self.gap_messages > MAX_GAP_MESSAGES:
                return {"type": "resync"}
        else:
            self.gap_messages = 0
        message = {"type": "status", "fields": self.fields()}
        if self.history_add:
            message["history"], self.history_add = self.history_add, []
        return message

    def position(self) -> int | None:
        if self.phase != wf.WAITING or self.expired:
            return None
        return positions.position(
            cycle=self.cycle,
            phase=self.phase_index,
            lane_id=self.lane,
            rank=max(0, self.rank),
            waiting=self.waiting,
        )

    def fields(self) -> dict[str, str]:
        place = self.position()
        eta = positions.estimate(
            position=place,
            average_seconds=self.eta.get("average"),
            spread_seconds=self.eta.get("spread"),
            samples=self.eta.get("samples") or 0,
            default_minutes=self.eta.get("default_minutes"),
            calibration=self.eta.get("calibration"),
        )
        self.shown = eta.forecast if eta else None
        return {
            "state": pgettext("ticket state", "expired")
            if self.expired
            else pick(self.state_label, self.language),
            "phase": phase_text(self.phase, expired=self.expired, tenant_name=self.tenant_name),
            "position": str(place) if place else "—",
            "eta": (eta.text() if eta else str(positions.NO_ESTIMATE)) if place else "—",
            "eta_basis": eta_basis_text(eta.basis if eta else None, in_line=bool(place)),
            "lane": self.lane_name,
            "turn_text": gettext(" · your number %(turn)s") % {"turn": self.turn} if self.turn else "",
        }
