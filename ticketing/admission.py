"""Admission tokens: the seam between the waiting room and checkout.

When ``Event.waiting_room_enabled`` is set, ``checkout_open`` needs a signed admission token that names
the event and the waiting-room entry and carries an expiry. The waiting room signs it with
``admission_sign`` when it admits someone; checkout verifies it with ``admission_verify``. One admission
opens at most one live checkout session (a partial unique index on the session's source reference).
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone

from core.errors import PermissionDenied
from core.signing import sign, unsign

ADMISSION_SALT = "ticketing.admission"


def admission_sign(*, event_id: int, entry_id: int, expires_at: datetime) -> str:
    return sign({"ev": event_id, "en": entry_id, "exp": int(expires_at.timestamp())}, salt=ADMISSION_SALT)


def admission_verify(*, event_id: int, token: str | None, now: datetime | None = None) -> dict:
    """Return ``{"event_id", "entry_id", "expires_at"}`` or raise PermissionDenied (forged, for another
    event, or expired)."""
    now = now or timezone.now()
    if not token:
        raise PermissionDenied("This sale uses a waiting room. Join it to get your turn at checkout.")
    try:
        payload = unsign(token, salt=ADMISSION_SALT)
    except Exception:  # noqa: BLE001 - any bad token is refused the same way
        raise PermissionDenied("This admission is not valid. Rejoin the waiting room.") from None
    if payload.get("ev") != event_id:
        raise PermissionDenied("This admission is for another event.")
    if int(payload.get("exp", 0)) <= int(now.timestamp()):
        raise PermissionDenied("Your admission has expired. Rejoin the waiting room.")
    return {
        "event_id": event_id,
        "entry_id": int(payload["en"]),
        "expires_at": datetime.fromtimestamp(int(payload["exp"]), tz=UTC),
    }
