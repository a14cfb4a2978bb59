"""Resolving the tenant and the member's role, in one place.

A user who is not a member of the tenant in the URL gets NotFound (404), exactly like a tenant that does
not exist: membership is not revealed. A member whose role is too low gets PermissionDenied (403).
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login

from core.errors import NotFound, PermissionDenied
from tenants.models import Membership, Role, Tenant


def resolve_membership(user, tenant_slug: str, *, minimum_role: str = Role.STAFF) -> Membership:
    if not (user and user.is_authenticated):
        raise NotFound()
    membership = (
        Membership.objects.select_related("tenant", "user")
        .filter(user=user, tenant__slug=tenant_slug)
        .first()
    )
    if membership is None:
        raise NotFound()
    if not membership.has_role(minimum_role):
        raise PermissionDenied(f"This needs the {Role(minimum_role).label.lower()} role or higher.")
    return membership


def get_public_tenant(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise NotFound("There is no page at this address.")
    return tenant


def member_required(minimum_role: str = Role.STAFF):
    """View decorator for ``/dashboard/<tenant_slug>/…``: sets ``request.tenant`` and
    ``request.membership``; anonymous users go to the login page."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, tenant_slug, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = resolve_membership(request.user, tenant_slug, minimum_role=minimum_role)
            request.tenant = membership.tenant
            request.membership = membership
            request.session["current_tenant"] = membership.tenant.slug
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
