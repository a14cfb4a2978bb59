"""Human-friendly unguessable reference codes: Crockford base32, 12 symbols = 60 bits of randomness,
shown in groups of three (``K7Q-4MZ-9XP-2HD``). Parsing forgives case, spaces, missing hyphens and the
look-alike letters Crockford maps (I, L → 1; O → 0)."""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SYMBOLS = 12
GROUP = 3
_TRANSLATE = str.maketrans({"I": "1", "L": "1", "O": "0"})
_VALID = re.compile(rf"^[{ALPHABET}]{{{SYMBOLS}}}$")


def new_reference() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(SYMBOLS))
    return format_reference(raw)


def format_reference(raw: str) -> str:
    return "-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP))


def normalize_reference(text: str) -> str | None:
    """The canonical form of ``text``, or None when it cannot be a reference."""
    cleaned = re.sub(r"[\s\-_.]", "", str(text or "")).upper().translate(_TRANSLATE)
    if not _VALID.match(cleaned):
        return None
    return format_reference(cleaned)


def new_token(nbytes: int = 16) -> str:
    """An opaque URL-safe token (128 bits by default) for entry tokens, ticket codes and offer links."""
    return secrets.token_urlsafe(nbytes)
