"""Who is calling the API, resolved once per request by ``api.middleware.ApiMiddleware``.

- ``Authorization: Bearer vq_…``: an API key of one tenant, with its scopes. A wrong or revoked key is
  refused (401) even on public endpoints, so a broken integration notices.
- A signed-in member (the dashboard's own calls): session cookie plus ``X-Tenant: <slug>`` naming the
  tenant, and for unsafe methods Django's CSRF token (``X-CSRFToken``). Members get every scope; what
  their role allows is decided by the services, as on the dashboard. Not a member → 404.
- Anyone else is anonymous: only the public endpoints answer them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.middleware.csrf import CsrfViewMiddleware
from django.utils.translation import gettext as _

from api.models import ApiKey, Scope
from api.problems import ApiProblem
from api.services import api_key_touch, hash_secret
from core.errors import PermissionDenied
from core.ratelimit import client_address
from tenants.access import resolve_membership
from tenants.models import Membership, Role, Tenant

ALL_SCOPES = frozenset(Scope.values)
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Principal:
    kind: str  # "key" | "session" | "anonymous"
    tenant: Tenant | None = None
    api_key: ApiKey | None = None
    membership: Membership | None = None
    scopes: frozenset = field(default_factory=frozenset)
    address: str = ""

    @property
    def identity(self) -> str:
        """Whose idempotency keys and rate-limit bucket these are."""
        if self.api_key is not None:
            return f"key:{self.api_key.prefix}"
        if self.membership is not None:
            return f"user:{self.membership.user_id}:{self.tenant.id}"
        return f"anon:{self.address}"

    def member(self) -> Membership:
        """The membership whose rights apply (the help desk's queue scope): the signed-in member, or the
        member who created the key. A key whose creator left the team cannot act for the help desk."""
        if self.membership is not None:
            return self.membership
        creator = self.api_key.created_by if self.api_key is not None else None
        membership = (
            Membership.objects.select_related("tenant", "user")
            .filter(tenant=self.tenant, user=creator)
            .first()
            if creator is not None
            else None
        )
        if membership is None:
            raise PermissionDenied(_("The member who created this key is no longer on the team."))
        return membership

    def require_role(self, role: str) -> Membership:
        """The dashboard's role rule for the same action (e.g. refunds need a manager): the member's own
        role for a session, the key creator's current role for a key. Raises PermissionDenied."""
        membership = self.member()
        if not membership.has_role(role):
            raise PermissionDenied(
                _("This needs the %(role)s role or higher.") % {"role": Role(role).label.lower()}
            )
        return membership

    @property
    def actor(self):
        """The user services record as the actor: the member, or the member who created the key."""
        if self.membership is not None:
            return self.membership.user
        return self.api_key.created_by if self.api_key is not None else None


def _csrf_failure(request) -> bool:
    checker = CsrfViewMiddleware(lambda _request: None)
    checker.process_request(request)
    return checker.process_view(request, lambda _request: None, (), {}) is not None


def resolve_principal(request) -> Principal:
    address = client_address(request)
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _separator, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiProblem("invalid_api_key", _("Send the key as 'Authorization: Bearer <key>'."))
        api_key = (
            ApiKey.objects.select_related("tenant", "created_by")
            .filter(key_hash=hash_secret(token), revoked_at__isnull=True)
            .first()
        )
        if api_key is None:
            raise ApiProblem("invalid_api_key", _("This API key is not valid (wrong, or revoked)."))
        api_key_touch(api_key=api_key)
        return Principal(
            kind="key",
            tenant=api_key.tenant,
            api_key=api_key,
            scopes=frozenset(api_key.scopes),
            address=address,
        )
    user = getattr(request, "user", None)
    slug = request.headers.get("X-Tenant", "")
    if user is not None and user.is_authenticated and slug:
        membership = resolve_membership(user, slug)
        if request.method in UNSAFE_METHODS and _csrf_failure(request):
            raise ApiProblem("csrf_failed", _("Signed-in calls that change something need the CSRF token."))
        return Principal(
            kind="session",
            tenant=membership.tenant,
            membership=membership,
            scopes=ALL_SCOPES,
            address=address,
        )
    return Principal(kind="anonymous", address=address)
