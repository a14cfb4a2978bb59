"""Signed, expiring tokens for links sent to people (admission, offers, my-tickets, unsubscribe)."""

from __future__ import annotations

from django.core import signing
from django.utils.translation import gettext as _

from core.errors import NotFound


def sign(payload: dict, *, salt: str) -> str:
    return signing.dumps(payload, salt=salt, compress=True)


def unsign(token: str, *, salt: str, max_age_seconds: int | None = None) -> dict:
    """Return the payload, or raise NotFound with a clear message for a bad or expired token."""
    try:
        return signing.loads(token, salt=salt, max_age=max_age_seconds)
    except signing.SignatureExpired:
        raise NotFound(_("This link has expired. Ask for a new one.")) from None
    except signing.BadSignature:
        raise NotFound(_("This link is not valid. Check that you copied all of it.")) from None
