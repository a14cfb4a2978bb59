"""Write path for tenants, memberships and customers."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from tenants.models import LANGUAGES, Account, Customer, Membership, Role, Tenant, User


def tenant_create(
    *, account: Account, slug: str, name: str, owner: User, time_zone: str = "UTC", currency: str = "USD"
) -> Tenant:
    """Create a tenant with ``owner`` as its first owner. Validates the slug and time zone."""
    tenant = Tenant(account=account, slug=slug, name=name, time_zone=time_zone, currency=currency)
    tenant.full_clean()
    with transaction.atomic(durable=True):
        tenant.save()
        Membership.objects.create(user=owner, tenant=tenant, role=Role.OWNER)
    return tenant


def membership_set(*, tenant: Tenant, user: User, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(tenant=tenant, user=user, defaults={"role": role})
    return membership


def customer_upsert(
    *,
    tenant: Tenant,
    email: str = "",
    name: str = "",
    phone: str = "",
    social_handle: str = "",
    location: str = "",
    email_consent: bool | None = None,
    user: User | None = None,
    verified: bool = False,
    language: str | None = None,
) -> Customer:
    """Find the tenant's customer by email (case-insensitive) or create one. Safe under concurrent calls
    for the same email (unique index + retry). Runs inside the caller's transaction when there is one (it
    uses a savepoint).

    Identity: anyone can TYPE an email, so an existing customer's record (name, phone, handle, location,
    consent, linked user) changes only when the caller proves the address — ``verified=True`` (a signed
    email link was opened) or ``user`` is signed in with that email or is the customer's linked user.
    Otherwise the existing record is returned untouched; what this submission typed is kept on the thing
    it created (its own contact snapshot).

    Language: ``language`` (default: the active language, i.e. the one the page spoke while they
    submitted or ordered) is remembered on the customer, under the same identity rule; their emails and
    texts are written in it."""
    from core.i18n import active_language, supported

    email = (email or "").strip().lower()
    updates = {
        key: value
        for key, value in {
            "name": name,
            "phone": phone,
            "social_handle": social_handle,
            "location": location,
        }.items()
        if value
    }
    updates["language"] = supported(language) or active_language()
    if email_consent is not None:
        updates["email_consent"] = email_consent
    if user is not None:
        updates["user"] = user
    if not email:
        return Customer.objects.create(tenant=tenant, **updates)
    for _attempt in range(3):
        customer = Customer.objects.filter(tenant=tenant, email__iexact=email).first()
        if customer is not None:
            if not _may_change(customer, user=user, verified=verified):
                return customer
            changed = [key for key, value in updates.items() if getattr(customer, key) != value]
            for key in changed:
                setattr(customer, key, updates[key])
            if changed:
                customer.save(update_fields=[*changed, "updated_at"])
            return customer
        try:
            with transaction.atomic():
                return Customer.objects.create(tenant=tenant, email=email, **updates)
        except IntegrityError:
            continue  # another request created them first; read theirs
    raise IntegrityError("could not upsert customer")


def tenant_language_set(*, tenant: Tenant, actor: User, language: str) -> Tenant:
    """Set the tenant's default language (its public pages for visitors who chose none, and emails to
    people whose own language is unknown). Owners and managers; audited. Raises ValidationError for a
    language VirtualQ does not speak, PermissionDenied for staff, NotFound for a non-member."""
    from django.utils.translation import gettext as _

    from core.errors import NotFound, PermissionDenied, ValidationError
    from team.audit import audit_record
    from team.models import AuditAction

    if language not in dict(LANGUAGES):
        raise ValidationError(
            _("Choose one of the languages offered."), field_errors={"language": [_("Unknown language.")]}
        )
    with transaction.atomic(durable=True):
        tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
        membership = Membership.objects.filter(tenant=tenant, user=actor).first()
        if membership is None:
            raise NotFound()
        if not membership.has_role(Role.MANAGER):
            raise PermissionDenied(_("Only an owner or a manager can change the default language."))
        if tenant.language != language:
            previous, tenant.language = tenant.language, language
            tenant.save(update_fields=["language", "updated_at"])
            audit_record(
                tenant=tenant,
                actor=actor,
                action=AuditAction.LANGUAGE_CHANGED,
                target=tenant.name,
                details={"from": previous, "to": language},
            )
    return tenant


def user_language_set(*, user: User, language: str) -> None:
    """Remember the language a signed-in person chose with the switcher, for their pages and their
    emails (as staff, and as the customer records linked to their account)."""
    if language not in dict(LANGUAGES) or not getattr(user, "is_authenticated", False):
        return
    with transaction.atomic():
        User.objects.filter(pk=user.pk).exclude(language=language).update(language=language)
        Customer.objects.filter(user=user).exclude(language=language).update(language=language)
    user.language = language


def _may_change(customer: Customer, *, user: User | None, verified: bool) -> bool:
    """Whether this caller has proven to be ``customer`` (see ``customer_upsert``)."""
    if verified:
        return True
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if customer.user_id is not None:
        return customer.user_id == user.pk
    return (user.email or "").strip().lower() == customer.email.lower()
