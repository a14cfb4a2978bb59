"""Encryption at rest for tenants' payment secrets (Stripe secret keys, webhook signing secrets).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with a key derived by HKDF-SHA256 from
``PAYMENTS_ENCRYPTION_KEY`` (falls back to ``SECRET_KEY``; set it separately in production so rotating
the Django secret does not lose the keys). ``PAYMENTS_ENCRYPTION_OLD_KEYS`` (comma-separated) are still
accepted for decryption, so a key can be rotated: set the new one, keep the old one there, re-save.
A secret is only ever shown back masked (``mask``).
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_INFO = b"virtualq.payments.secrets.v1"


def _derive(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


@lru_cache(maxsize=8)
def _fernet(primary: str, old: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_derive(primary), *(_derive(key) for key in old)])


def _current() -> MultiFernet:
    primary = settings.PAYMENTS_ENCRYPTION_KEY or settings.SECRET_KEY
    return _fernet(primary, tuple(settings.PAYMENTS_ENCRYPTION_OLD_KEYS))


def encrypt(plain: str) -> str:
    if not plain:
        return ""
    return _current().encrypt(plain.encode()).decode()


class SecretUnreadable(Exception):
    """The stored secret was encrypted with a key we no longer have."""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable(
            "A stored payment secret cannot be decrypted with the configured keys."
        ) from error


def mask(plain: str) -> str:
    """``sk_test_…4242``: enough to recognise a key, never enough to use it."""
    if not plain:
        return ""
    parts = plain.split("_")
    if len(parts) >= 3 and parts[1] in ("test", "live"):
        head = f"{parts[0]}_{parts[1]}_"
    elif len(parts) >= 2:
        head = f"{parts[0]}_"
    else:
        head = ""
    return f"{head}…{plain[-4:]}"
