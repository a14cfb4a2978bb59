"""Real-time payloads for the event availability group (public: anyone looking at the event page).

Group ``ticketing.availability.<tenant_id>.<event_id>``; message type ``availability.update``; payload
``{"fields": {"tier-<id>-available": "12 left", "event-status": "On sale", "checkout-free": "…"},
"checkout_free": 2}`` in the shape
``static/js/live.js`` applies. Built once per change (not per watcher) after commit. Watchers read the
page in different languages, so ``fields_by_language`` carries the same fields in every language of
the product (``tenants.models.LANGUAGES``); live.js picks the page's ``<html lang>``, ``fields`` is the
default language.

Coalescing: a hot sale commits many holds a second, and building + sending a payload costs about as
much as the purchase itself. So after commit an event is only marked dirty; one daemon thread per process
flushes dirty events every ``TICKETING_LIVE_COALESCE_MS`` (default 250 ms): one payload and one send
per event per window, always reflecting the latest committed state (never a lost final update). The
thread never writes, and closes its database connection after each flush. ``TICKETING_LIVE_COALESCE_MS
= 0`` sends immediately on commit instead (``core.broadcast.broadcast_on_commit``).
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.broadcast import broadcast_on_commit, group_name, send_now
from tenants.models import LANGUAGES as PRODUCT_LANGUAGES

logger = logging.getLogger(__name__)

MESSAGE_TYPE = "availability.update"

_dirty: dict[int, int] = {}
_lock = threading.Lock()
_wake = threading.Event()
_flusher: threading.Thread | None = None


def availability_group(tenant_id: int, event_id: int) -> str:
    return group_name("ticketing", "availability", tenant_id, event_id)


def availability_payload(event_id: int) -> dict:
    from ticketing.selectors import event_availability, sale_status_label

    event, tiers = event_availability(event_id)

    def fields_in(language: str) -> dict[str, str]:
        with translation.override(language):
            fields = {f"tier-{tier['id']}-available": availability_text(tier["available"]) for tier in tiers}
            fields["event-status"] = sale_status_label(
                event["event"], now=event["now"], any_left=event["any_left"]
            )
            fields["checkout-free"] = checkout_places_text(event["checkout_free"])
        return fields

    by_language = {code: fields_in(code) for code, _name in PRODUCT_LANGUAGES}
    default = by_language.get(settings.LANGUAGE_CODE.split("-")[0]) or fields_in(settings.LANGUAGE_CODE)
    return {
        "fields": default,
        "fields_by_language": by_language,
        "tiers": tiers,
        "event_id": event_id,
        "checkout_free": event["checkout_free"],
    }


def checkout_places_text(free: int) -> str:
    if free <= 0:
        return str(_("Every checkout place is taken."))
    return ngettext("%(count)d checkout place is free.", "%(count)d checkout places are free.", free) % {
        "count": free
    }


def availability_text(available: int) -> str:
    if available <= 0:
        return _("Sold out")
    return ngettext("%(count)s left", "%(count)s left", available) % {"count": available}


def _coalesce_seconds() -> float:
    return max(0, int(getattr(settings, "TICKETING_LIVE_COALESCE_MS", 250))) / 1000


def broadcast_availability(event_id: int, tenant_id: int | None = None) -> None:
    """Schedule an availability update for ``event_id`` after the current transaction commits."""
    if tenant_id is None:
        from ticketing.models import Event

        tenant_id = Event.objects.values_list("tenant_id", flat=True).get(pk=event_id)
    if _coalesce_seconds() <= 0:
        broadcast_on_commit(
            availability_group(tenant_id, event_id),
            MESSAGE_TYPE,
            lambda: availability_payload(event_id),
            remember=True,
        )
        return
    transaction.on_commit(lambda: _mark_dirty(event_id, tenant_id))


def _mark_dirty(event_id: int, tenant_id: int) -> None:
    global _flusher
    with _lock:
        _dirty[event_id] = tenant_id
        if _flusher is None or not _flusher.is_alive():
            _flusher = threading.Thread(target=_flush_forever, name="ticketing-live-flusher", daemon=True)
            _flusher.start()
    _wake.set()


def flush() -> int:
    """Send one update per dirty event (latest committed state). Returns how many were sent."""
    with _lock:
        batch = dict(_dirty)
        _dirty.clear()
    sent = 0
    try:
        for event_id, tenant_id in batch.items():
            built_at = time.time()
            try:
                payload = availability_payload(event_id)
            except Exception:  # noqa: BLE001 - e.g. the event was deleted; nothing to show
                logger.warning("availability payload for event %s failed", event_id, exc_info=True)
                continue
            group = availability_group(tenant_id, event_id)
            send_now(group, MESSAGE_TYPE, payload, remember=True, built_at=built_at)
            sent += 1
    finally:
        connection.close()
    return sent


def _flush_forever() -> None:
    while True:
        _wake.wait()
        _wake.clear()
        threading.Event().wait(_coalesce_seconds())  # the coalescing window
        try:
            flush()
        except Exception:  # noqa: BLE001 - a broadcast is best effort; keep the thread alive
            logger.exception("availability flush failed")
