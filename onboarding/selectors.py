"""Reads for "Create your space": is a tenant address free, and what a new space already runs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _

from tenants.models import Tenant, validate_tenant_slug

# Lower-case letters, digits and single hyphens, starting and ending with a letter or digit: it is the
# first segment of every public address of the tenant (/<slug>/…), so it is typed and read by people.
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){1,58}[a-z0-9]$")
SLUG_MAX = 60


@dataclass(frozen=True)
class SlugCheck:
    slug: str
    available: bool
    message: str


def normalise_slug(value: str) -> str:
    return (value or "").strip().lower()


def slug_problem(value: str) -> str | None:
    """Why ``value`` cannot be a new tenant's address (format, reserved word), ignoring whether it is
    taken; None when it can."""
    slug = normalise_slug(value)
    if not slug:
        return _("Choose an address for your public page.")
    if len(slug) < 3 or len(slug) > SLUG_MAX:
        return _("Use 3 to %(max)s characters.") % {"max": SLUG_MAX}
    if not SLUG_PATTERN.match(slug):
        return _("Use lower-case letters, digits and single hyphens (for example ava-sings).")
    try:
        validate_tenant_slug(slug)
    except DjangoValidationError:
        return _("“%(slug)s” is reserved for VirtualQ's own pages; choose another address.") % {"slug": slug}
    return None


def slug_check(value: str) -> SlugCheck:
    """The live availability answer: format and reserved words first, then whether a tenant has it.
    Advisory only — the sign-up's POST decides under the database's unique index."""
    slug = normalise_slug(value)
    problem = slug_problem(slug)
    if problem:
        return SlugCheck(slug, False, problem)
    if Tenant.objects.filter(slug=slug).exists():
        return SlugCheck(slug, False, _("“%(slug)s” is taken; choose another address.") % {"slug": slug})
    return SlugCheck(slug, True, _("“%(slug)s” is available.") % {"slug": slug})


def own_recent_space(user, slug: str, *, minutes: int = 10) -> Tenant | None:
    """The tenant at ``slug`` if ``user`` created it (is its only member, an owner) in the last
    ``minutes`` — how a repeated "Create my space" is recognised as the same request."""
    from datetime import timedelta

    from django.utils import timezone

    from tenants.models import Membership, Role

    if not (user and user.is_authenticated):
        return None
    tenant = Tenant.objects.filter(
        slug=slug, created_at__gte=timezone.now() - timedelta(minutes=minutes)
    ).first()
    if tenant is None:
        return None
    members = list(Membership.objects.filter(tenant=tenant).values_list("user_id", "role"))
    return tenant if members == [(user.pk, Role.OWNER)] else None


def members_two_factor(tenant: Tenant) -> list[tuple[object, bool]]:
    """``(membership, has two-factor)`` for each member of ``tenant``, in two queries."""
    from allauth.mfa.models import Authenticator

    from tenants.models import Membership

    memberships = list(
        Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__email")
    )
    with_mfa = set(
        Authenticator.objects.filter(
            user_id__in=[m.user_id for m in memberships], type=Authenticator.Type.TOTP
        ).values_list("user_id", flat=True)
    )
    return [(membership, membership.user_id in with_mfa) for membership in memberships]
