"""Write path for accounts and "Create your space".

``space_create`` opens an account (the billing entity) and its first tenant with the signed-up person
as owner, in one transaction. The tenant's address is decided by the database's unique index on
``Tenant.slug``: two people racing for one address both pass the form's check, one insert wins and the
other gets a ValidationError on ``slug`` (never a 500, nothing half-created). The steps after it (what
the space runs) call the owning apps' services (queues, ticketing, support); see ``onboarding.setup``.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.errors import PermissionDenied, ValidationError
from onboarding.selectors import normalise_slug, slug_problem
from tenants.models import Account, Membership, Role, Tenant, User

SLUG_TAKEN = _("Someone took “{slug}” a moment ago; choose another address.")
SPACE_LIMIT_REACHED = _(
    "You already own {count} spaces, the most one person can create. Delete one you no longer use, or "
    "ask the operators to raise the limit."
)


def owned_space_count(user: User) -> int:
    return Membership.objects.filter(user=user, role=Role.OWNER).count()


def _check_space_limit(actor: User) -> None:
    limit = settings.MAX_SPACES_PER_USER
    count = owned_space_count(actor)
    if count >= limit:
        raise ValidationError(SPACE_LIMIT_REACHED.format(count=count))


def email_address_mark_verified(*, user: User) -> EmailAddress:
    """Record ``user.email`` as the user's verified primary address (people created by operators, the
    demo seed or tests, whose address nobody needs to prove by link). Idempotent; joins the caller's
    transaction. Raises IntegrityError when another user already holds the address verified."""
    address, _ = EmailAddress.objects.update_or_create(
        user=user, email=user.email.lower(), defaults={"verified": True, "primary": True}
    )
    return address


def space_create(
    *,
    actor: User,
    account_name: str,
    billing_email: str,
    name: str,
    slug: str,
    time_zone: str,
    currency: str,
    language: str,
) -> Tenant:
    """Create an account and its first tenant, ``actor`` its owner.

    Validates every field first (ValidationError with field errors: reserved or malformed slug, unknown
    time zone, currency not three letters, unknown language). Atomic (durable): account, tenant and the
    owner's membership together. No lock: the unique index on the slug arbitrates a race, and the loser
    gets ValidationError on ``slug`` saying the address was just taken. Requires a verified email. One
    person owns at most ``MAX_SPACES_PER_USER`` spaces (ValidationError past it)."""
    if not (actor and actor.is_authenticated):
        raise PermissionDenied(gettext("Log in first."))
    if not EmailAddress.objects.filter(user=actor, verified=True).exists():
        raise PermissionDenied(gettext("Verify your email address first."))
    _check_space_limit(actor)
    slug = normalise_slug(slug)
    errors: dict[str, list[str]] = {}
    problem = slug_problem(slug)
    if problem:
        errors["slug"] = [problem]
    account = Account(
        name=(account_name or name).strip(), billing_email=(billing_email or actor.email).strip()
    )
    tenant = Tenant(
        slug=slug,
        name=(name or "").strip(),
        time_zone=time_zone,
        currency=(currency or "").strip().upper(),
        language=language,
    )
    for instance, exclude, prefix in [(account, [], "account_"), (tenant, ["account", "slug"], "")]:
        try:
            instance.full_clean(exclude=exclude, validate_unique=False)
        except DjangoValidationError as error:
            for field, messages in error.message_dict.items():
                key = {"account_name": "account_name", "account_billing_email": "billing_email"}.get(
                    prefix + field, field
                )
                errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationError(field_errors=errors)
    try:
        with transaction.atomic(durable=True):
            # One creator at a time per person (two tabs racing past the limit): lock the user row and
            # count again under the lock.
            User.objects.select_for_update().filter(pk=actor.pk).first()
            _check_space_limit(actor)
            account.save()
            tenant.account = account
            tenant.save()
            Membership.objects.create(user=actor, tenant=tenant, role=Role.OWNER)
    except IntegrityError as error:
        if "slug" in str(error):
            raise ValidationError(field_errors={"slug": [SLUG_TAKEN.format(slug=slug)]}) from None
        raise
    return tenant


def tenant_two_factor_require(*, tenant: Tenant, actor: User, required: bool) -> Tenant:
    """Switch the tenant's two-factor requirement. Only an owner; an owner who has no two-factor
    authentication yet cannot switch it on (they would lock themselves out of their own dashboard).
    Atomic (durable); locks the tenant row. Raises PermissionDenied, ValidationError."""
    from allauth.mfa.utils import is_mfa_enabled

    with transaction.atomic(durable=True):
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if not Membership.objects.filter(tenant=locked, user=actor, role=Role.OWNER).exists():
            raise PermissionDenied(gettext("Only an owner can change this."))
        if required and not is_mfa_enabled(actor):
            raise ValidationError(
                field_errors={
                    "require_two_factor": [
                        gettext("Set up two-factor authentication for yourself first (Your account).")
                    ]
                }
            )
        locked.require_two_factor = bool(required)
        locked.save(update_fields=["require_two_factor", "updated_at"])
    tenant.require_two_factor = locked.require_two_factor
    return locked
