"""Write path for a tenant's branding: accent colour, intro, logo. Owners only; audited.

Locks the tenant row (``FOR UPDATE``): two owners saving at once apply one after the other and the
logo version only ever goes up. Raises ValidationError with field errors for an accent colour that
misses WCAG AA contrast (``branding.contrast``), an intro over 500 characters, or a logo that is too big
or not a PNG/JPEG/GIF/WebP image (``branding.images``); PermissionDenied for a non-owner.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from branding.contrast import accent_problems
from branding.images import NotAnImage, inspect_image
from branding.models import TenantLogo
from core.errors import NotFound, PermissionDenied, ValidationError
from team.audit import audit_record
from team.models import AuditAction
from tenants.models import Membership, Role, Tenant, User

LOGO_MAX_BYTES = 256 * 1024
INTRO_MAX_CHARS = 500


def logo_problems(data: bytes | None) -> list[str]:
    if data is None:
        return []
    if not data:
        return [_("The file is empty.")]
    if len(data) > LOGO_MAX_BYTES:
        return [
            _("The logo is %(size)s KB; the limit is %(limit)s KB.")
            % {"size": len(data) // 1024, "limit": LOGO_MAX_BYTES // 1024}
        ]
    try:
        inspect_image(data)
    except NotAnImage as error:
        return [str(error)]
    return []


def tenant_branding_update(
    *,
    tenant: Tenant,
    actor: User,
    accent_colour: str,
    intro: str,
    logo: bytes | None = None,
    remove_logo: bool = False,
    now: datetime | None = None,
) -> Tenant:
    """Set the accent colour and intro; replace the logo with ``logo`` (raw bytes) or drop it with
    ``remove_logo``. See the module docstring for locks and errors. Nothing is saved when anything is
    refused."""
    accent_colour = (accent_colour or "").strip().lower()
    intro = (intro or "").strip()
    errors: dict[str, list[str]] = {}
    if problems := accent_problems(accent_colour):
        errors["accent_colour"] = problems
    if len(intro) > INTRO_MAX_CHARS:
        errors["intro"] = [
            _("Keep the intro to %(limit)s characters (it has %(count)s).")
            % {"limit": INTRO_MAX_CHARS, "count": len(intro)}
        ]
    if problems := logo_problems(logo):
        errors["logo"] = problems
    if errors:
        raise ValidationError(_("The branding was not saved."), field_errors=errors)
    with transaction.atomic(durable=True):
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        membership = Membership.objects.filter(tenant=tenant, user=actor).first()
        if membership is None:
            raise NotFound()
        if membership.role != Role.OWNER:
            raise PermissionDenied(_("Only an owner can change the branding."))
        # Stored untranslated; the audit log shows them in its reader's language (team.audit).
        changed = []
        if tenant.brand_colour.lower() != accent_colour:
            tenant.brand_colour = accent_colour
            changed.append(gettext_noop("accent colour"))
        if tenant.brand_intro != intro:
            tenant.brand_intro = intro
            changed.append(gettext_noop("intro"))
        if logo is not None:
            info = inspect_image(logo)
            TenantLogo.objects.update_or_create(
                tenant=tenant,
                defaults={
                    "content_type": info.content_type,
                    "data": logo,
                    "size_bytes": len(logo),
                    "width": info.width,
                    "height": info.height,
                },
            )
            tenant.brand_logo_version += 1
            changed.append(gettext_noop("logo"))
        elif remove_logo and tenant.brand_logo_version:
            TenantLogo.objects.filter(tenant=tenant).delete()
            tenant.brand_logo_version = 0
            changed.append(gettext_noop("logo removed"))
        if changed:
            tenant.save(update_fields=["brand_colour", "brand_intro", "brand_logo_version", "updated_at"])
            audit_record(
                tenant=tenant,
                actor=actor,
                action=AuditAction.BRANDING_UPDATED,
                target=tenant.name,
                details={"changed": changed, "accent_colour": tenant.brand_colour},
            )
    return tenant
