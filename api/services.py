"""The API's own write path: API keys (create, revoke, last use) and idempotency records.

Tenancy: every key belongs to the tenant it was created in; revoking a key of another tenant raises
NotFound. Keys are created and revoked by owners and managers (checked by the caller's
``member_required``, and again here so no other caller can skip it).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiKey, IdempotencyRecord, Scope
from core.errors import NotFound, PermissionDenied, ValidationError
from tenants.models import Membership, Role, Tenant, User

KEY_PREFIX = "vq_"
# last_used_at is bookkeeping, not a counter: write it at most once a minute per key, so a busy
# integration does not turn every read into a row update.
LAST_USED_RESOLUTION = timedelta(minutes=1)
IDEMPOTENCY_TTL = timedelta(hours=24)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _check_manager(tenant: Tenant, actor: User | None) -> None:
    membership = Membership.objects.filter(tenant=tenant, user=actor).first() if actor else None
    if membership is None:
        raise NotFound()
    if not membership.has_role(Role.MANAGER):
        raise PermissionDenied(_("Managing API keys needs the manager role or higher."))


def api_key_create(
    *, tenant: Tenant, actor: User | None, name: str, scopes: list[str], now: datetime | None = None
) -> tuple[ApiKey, str]:
    """Create a key for ``tenant`` with ``scopes``. Returns ``(key, secret)``: the secret is not stored
    and cannot be shown again. No locks (a new row). Raises ValidationError (no name, unknown or no
    scopes), PermissionDenied (below manager), NotFound (not a member)."""
    _check_manager(tenant, actor)
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Name the key after what will use it.")]
    elif len(name) > 100:
        errors["name"] = [_("At most 100 characters.")]
    chosen = sorted(set(scopes or []))
    if not chosen:
        errors["scopes"] = [_("Choose at least one scope.")]
    elif not set(chosen) <= set(Scope.values):
        errors["scopes"] = [_("Use only: %(scopes)s.") % {"scopes": ", ".join(Scope.values)}]
    if errors:
        raise ValidationError(next(iter(errors.values()))[0], field_errors=errors)
    with transaction.atomic(durable=True):
        for _attempt in range(3):
            prefix = secrets.token_hex(6)
            secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
            try:
                with transaction.atomic():
                    key = ApiKey.objects.create(
                        tenant=tenant,
                        name=name,
                        prefix=prefix,
                        key_hash=hash_secret(secret),
                        scopes=chosen,
                        created_by=actor,
                    )
                return key, secret
            except IntegrityError:  # a prefix collision (48 bits): draw again
                continue
    raise ValidationError(_("Could not create a key. Please try again."))


def api_key_revoke(
    *, tenant: Tenant, actor: User | None, api_key: ApiKey, now: datetime | None = None
) -> ApiKey:
    """Revoke ``api_key`` at once (the next request with it gets 401). Idempotent. One UPDATE guarded by
    ``revoked_at IS NULL``, so two revokes record the first. Raises NotFound for another tenant's key."""
    if api_key.tenant_id != tenant.id:
        raise NotFound()
    _check_manager(tenant, actor)
    now = _now(now)
    with transaction.atomic(durable=True):
        ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=actor, updated_at=now
        )
    api_key.refresh_from_db()
    return api_key


def api_key_touch(*, api_key: ApiKey, now: datetime | None = None) -> None:
    """Record that ``api_key`` was used (at most once per minute: the guarded UPDATE skips otherwise)."""
    now = _now(now)
    if api_key.last_used_at and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    with transaction.atomic(durable=True):
        ApiKey.objects.filter(pk=api_key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
    api_key.last_used_at = now


# --- idempotency ----------------------------------------------------------------------------------


def idempotency_begin(
    *,
    tenant: Tenant | None,
    principal: str,
    key: str,
    fingerprint: str,
    method: str,
    path: str,
    now: datetime | None = None,
) -> tuple[IdempotencyRecord, bool]:
    """Claim ``key`` for ``principal``: returns ``(record, created)``. ``created`` False means an earlier
    request holds it (finished: replay its response; unfinished: still running). The unique constraint
    settles two concurrent first requests: exactly one creates. A record older than 24 h is forgotten
    and the key claimed afresh."""
    now = _now(now)
    with transaction.atomic(durable=True):
        IdempotencyRecord.objects.filter(
            principal=principal, key=key, created_at__lt=now - IDEMPOTENCY_TTL
        ).delete()
        record, created = IdempotencyRecord.objects.get_or_create(
            principal=principal,
            key=key,
            defaults={
                "tenant": tenant,
                "fingerprint": fingerprint,
                "method": method,
                "path": path[:500],
                "created_at": now,
            },
        )
    return record, created


def idempotency_finish(
    *,
    record: IdempotencyRecord,
    status_code: int,
    content_type: str,
    body: bytes,
    headers: dict[str, str],
    now: datetime | None = None,
) -> None:
    """Store the response of the request that claimed ``record`` (replayed to later requests)."""
    with transaction.atomic(durable=True):
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status_code=status_code,
            content_type=content_type[:100],
            response_body=body,
            response_headers=headers,
            completed_at=_now(now),
        )


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Forget a claim whose request failed in a way worth retrying (5xx, busy, rate limited): the same
    key may then be sent again and will run again."""
    with transaction.atomic(durable=True):
        IdempotencyRecord.objects.filter(pk=record.pk, completed_at__isnull=True).delete()


def idempotency_purge(*, now: datetime | None = None) -> int:
    """Delete records past their 24 h (beat). Reads already ignore them; this keeps the table small."""
    with transaction.atomic(durable=True):
        deleted, _per_model = IdempotencyRecord.objects.filter(
            created_at__lt=_now(now) - IDEMPOTENCY_TTL
        ).delete()
    return deleted
