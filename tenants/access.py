"""Resolving the tenant and the member's role, in one place.

A user who is not a member of the tenant in the URL gets NotFound (404), exactly like a tenant that does
not exist: membership is not revealed. A member whose role is too low gets PermissionDenied (403).
When the tenant's owner requires two-factor authentication, a member without it gets TwoFactorRequired
(a PermissionDenied): dashboard pages send them to set it up, sockets refuse them.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import NotFound, PermissionDenied
from core.i18n import speak_tenant_language
from tenants.models import Membership, Role, Tenant


class TwoFactorRequired(PermissionDenied):
    code = "two_factor_required"
    default_message = gettext_lazy(
        "This team requires two-factor authentication: set it up under Your account."
    )


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
        raise PermissionDenied(
            _("This needs the %(role)s role or higher.") % {"role": Role(minimum_role).label.lower()}
        )
    if membership.tenant.require_two_factor:
        from allauth.mfa.utils import is_mfa_enabled

        if not is_mfa_enabled(user):
            raise TwoFactorRequired(
                _("%(tenant)s requires two-factor authentication: set it up under Your account.")
                % {"tenant": membership.tenant.name}
            )
    return membership


def get_public_tenant(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        raise NotFound(_("There is no page at this address."))
    speak_tenant_language(tenant)
    return tenant


def member_required(minimum_role: str = Role.STAFF):
    """View decorator for ``/dashboard/<tenant_slug>/…``: sets ``request.tenant`` and
    ``request.membership``; anonymous users go to the login page."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, tenant_slug, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            try:
                membership = resolve_membership(request.user, tenant_slug, minimum_role=minimum_role)
            except TwoFactorRequired as error:
                messages.warning(request, error.message)
                return redirect(
                    f"{reverse('mfa_activate_totp')}?{urlencode({'next': request.get_full_path()})}"
                )
            request.tenant = membership.tenant
            request.membership = membership
            request.session["current_tenant"] = membership.tenant.slug
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
