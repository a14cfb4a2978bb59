"""Cursor pagination: keyset on the primary key (stable under inserts, no OFFSET scans).

A cursor is opaque to clients (base64 of the last id and the direction); a tampered one is a 422 with a
field error on ``cursor``. ``next_cursor`` is null on the last page.
"""

from __future__ import annotations

import base64
import binascii
import json

from django.utils.translation import gettext as _

from core.errors import ValidationError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(last_id: int, descending: bool) -> str:
    raw = json.dumps({"after": last_id, "desc": descending}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, descending: bool) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        after = data["after"]
        if not isinstance(after, int) or isinstance(after, bool) or data.get("desc") is not descending:
            raise ValueError
        return after
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeEncodeError):
        raise ValidationError(
            _("This cursor is not valid."),
            field_errors={"cursor": [_("Use the next_cursor of a previous page.")]},
        ) from None


def paginate(queryset, *, cursor: str | None, limit: int, descending: bool = False) -> dict:
    """``{"items": [...], "next_cursor": str | None}`` for one page of ``queryset`` ordered by id."""
    queryset = queryset.order_by("-id" if descending else "id")
    if cursor:
        after = decode_cursor(cursor, descending)
        queryset = queryset.filter(id__lt=after) if descending else queryset.filter(id__gt=after)
    rows = list(queryset[: limit + 1])
    next_cursor = encode_cursor(rows[limit - 1].id, descending) if len(rows) > limit else None
    return {"items": rows[:limit], "next_cursor": next_cursor}
