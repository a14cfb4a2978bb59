"""Admission tokens: the seam between the waiting room and checkout.

When ``Event.waiting_room_enabled`` is set, ``checkout_open`` needs a signed admission token that names
the event and the waiting-room entry and carries an expiry. The waiting room signs it with
``admission_sign`` when it admits someone; checkout verifies it with ``admission_verify``. One admission
opens at most one live checkout session (a partial unique index on the session's source reference).
An admission is bound to its holder: the token carries a digest of the browser's session key (and the
signed-in user's id), and a checkout opened with it from anywhere else is refused (``AdmissionElsewhere``).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import PermissionDenied
from core.signing import sign, unsign

ADMISSION_SALT = "ticketing.admission"


class AdmissionElsewhere(PermissionDenied):
    """A valid admission presented by another browser or account than the one it was issued to."""

    code = "admission_elsewhere"


def holder_digest(holder_key: str) -> str:
    """What the token carries of the holder's session key (never the key itself: the token is in the
    page, the session key is a credential)."""
    if not holder_key:
        return ""
    return hmac.new(b"vq-admission-holder", holder_key.encode(), hashlib.sha256).hexdigest()[:24]


def admission_sign(
    *, event_id: int, entry_id: int, expires_at: datetime, holder_key: str = "", user_id: int | None = None
) -> str:
    """Sign an admission. With ``holder_key`` (the browser's session key of a place taken on the web) it
    opens a checkout only in that browser, or for ``user_id`` signed in anywhere. Without one (a place
    taken through the API: the tenant's own integration answers for it) it is bound to nobody."""
    payload = {"ev": event_id, "en": entry_id, "exp": int(expires_at.timestamp())}
    if holder_key:
        payload["hk"] = holder_digest(holder_key)
        if user_id is not None:
            payload["u"] = user_id
    return sign(payload, salt=ADMISSION_SALT)


def admission_verify(
    *,
    event_id: int,
    token: str | None,
    holder_key: str = "",
    user_id: int | None = None,
    now: datetime | None = None,
) -> dict:
    """Return ``{"event_id", "entry_id", "expires_at"}`` or raise PermissionDenied (forged, for another
    event, or expired) / AdmissionElsewhere (bound to another browser or user than ``holder_key`` /
    ``user_id``, the ones presenting it)."""
    now = now or timezone.now()
    if not token:
        raise PermissionDenied(_("This sale uses a waiting room. Join it to get your turn at checkout."))
    try:
        payload = unsign(token, salt=ADMISSION_SALT)
    except Exception:  # noqa: BLE001 - any bad token is refused the same way
        raise PermissionDenied(_("This admission is not valid. Rejoin the waiting room.")) from None
    if payload.get("ev") != event_id:
        raise PermissionDenied(_("This admission is for another event."))
    if int(payload.get("exp", 0)) <= int(now.timestamp()):
        raise PermissionDenied(_("Your admission has expired. Rejoin the waiting room."))
    bound_browser, bound_user = payload.get("hk", ""), payload.get("u")
    if bound_browser or bound_user is not None:
        same_user = bound_user is not None and user_id is not None and bound_user == user_id
        same_browser = bool(bound_browser) and hmac.compare_digest(bound_browser, holder_digest(holder_key))
        if not (same_user or same_browser):
            raise AdmissionElsewhere(
                _("This admission was given to another browser. Only the person it was issued to can use it.")
            )
    return {
        "event_id": event_id,
        "entry_id": int(payload["en"]),
        "expires_at": datetime.fromtimestamp(int(payload["exp"]), tz=UTC),
    }
