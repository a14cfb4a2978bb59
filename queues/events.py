"""Real-time payloads for queues. One broadcast per queue change, to one group per queue.

The payload carries what every watcher needs to work out its own position *without a query*: each
lane's count, version, counters and weight, the queue's phase and ETA statistics, and the line changes of
this transaction — ``{"lane", "version", "removed", "added"}`` with lane sequences — plus the new state,
lane and lane rank of each ticket that moved. A status watcher keeps its lane rank up to date by applying
the changes of its lane in version order (a ticket removed or added ahead of it moves it by one). No
personal data is broadcast: ids, sequences and counts only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext

from core.broadcast import broadcast_on_commit, group_name
from queues.eta import calibration_bounds

MESSAGE_TYPE = "queue.changed"


def queue_group(tenant_id: int, queue_id: int) -> str:
    return group_name("queues", "q", tenant_id, queue_id)


@dataclass
class ChangeSet:
    """What one service call changed in a queue's line; broadcast once after commit."""

    tenant_id: int
    queue_id: int
    changes: list[dict] = field(default_factory=list)
    tickets: list[dict] = field(default_factory=list)

    def lane_change(
        self, *, lane_id: int, version: int, removed: int | None = None, added: int | None = None
    ):
        self.changes.append({"lane": lane_id, "version": version, "removed": removed, "added": added})

    def ticket_change(self, ticket, *, rank: int | None, version: int | None, history=None) -> None:
        """``history``: the status page's new history line, one per language (see live.in_each_language)."""
        from queues.live import in_each_language

        self.tickets.append(
            {
                "id": ticket.pk,
                "state": ticket.state,
                "state_label": in_each_language(lambda: ticket.state_label),
                "phase": ticket.phase,
                "lane": ticket.lane_id,
                "lane_name": ticket.lane.name,
                "sequence": ticket.lane_sequence,
                "turn": ticket.turn_label,
                "rank": rank,
                "version": version,
                "history": history or "",
            }
        )

    def broadcast_on_commit(self) -> None:
        tenant_id, queue_id = self.tenant_id, self.queue_id
        changes, tickets = list(self.changes), list(self.tickets)
        broadcast_on_commit(
            queue_group(tenant_id, queue_id),
            MESSAGE_TYPE,
            lambda: queue_payload(queue_id, changes=changes, tickets=tickets),
            remember=True,
        )


def queue_payload(
    queue_id: int, *, changes: list[dict] | None = None, tickets: list[dict] | None = None
) -> dict:
    """The snapshot part is read once per change (two queries), after commit."""
    from queues.models import Queue
    from queues.selectors import queue_snapshot

    queue = Queue.objects.get(pk=queue_id)
    snapshot = queue_snapshot(queue)
    return snapshot_payload(snapshot, changes=changes or [], tickets=tickets or [])


def snapshot_payload(snapshot, *, changes: list[dict], tickets: list[dict]) -> dict:
    from queues.live import in_each_language

    queue = snapshot.queue
    lanes = []
    for lane in snapshot.lanes:
        lanes.append(
            {
                "id": lane.id,
                "name": lane.name,
                "weight": lane.weight,
                "enabled": lane.enabled,
                "waiting": lane.waiting,
                "now_serving": f"{lane.prefix}-{lane.now_serving}" if lane.now_serving else "—",
                "next_turn": f"{lane.prefix}-{lane.next_turn}",
                "version": lane.version,
                "eta": in_each_language(lambda lane=lane: lane.eta_text),
            }
        )
    return {
        "type": MESSAGE_TYPE,
        "queue": queue.pk,
        "public": queue.is_public,
        "enabled": queue.enabled,
        "phase": queue.interleave_phase,
        "cycle": snapshot.cycle,
        "eta": {
            "average": queue.service_seconds_average,
            "spread": queue.service_seconds_spread,
            "samples": queue.service_samples,
            "default_minutes": queue.default_service_minutes,
            "calibration": calibration_bounds(queue.eta_calibration),
        },
        "lanes": lanes,
        "changes": changes,
        "tickets": tickets,
        "fields": card_fields(lanes, queue.pk, queue.enabled),
    }


def card_fields_of(payload: dict) -> dict[str, str]:
    """The card's fields of a broadcast, worded in the active language."""
    return card_fields(payload["lanes"], payload["queue"], payload["enabled"])


def card_fields(lanes: list[dict], queue_id: int, enabled: bool) -> dict[str, str]:
    """``data-live-field`` values of the public queue card (applied by static/js/live.js), in the active
    language (the consumer activates its page's)."""
    from django.utils.translation import get_language

    from queues.live import pick

    language = get_language() or ""
    is_open, closed = gettext("open"), gettext("closed")
    fields = {f"queue-{queue_id}-status": is_open if enabled else closed}
    for lane in lanes:
        prefix = f"lane-{lane['id']}"
        fields[f"{prefix}-waiting"] = str(lane["waiting"])
        fields[f"{prefix}-now-serving"] = lane["now_serving"]
        fields[f"{prefix}-next-turn"] = lane["next_turn"]
        fields[f"{prefix}-eta"] = pick(lane["eta"], language)
        fields[f"{prefix}-enabled"] = is_open if lane["enabled"] and enabled else closed
    return fields
