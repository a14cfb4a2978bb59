"""Write path for accounts and "Create your space"."""

from __future__ import annotations

from allauth.account.models import EmailAddress

from tenants.models import User


def email_address_mark_verified(*, user: User) -> EmailAddress:
    """Record ``user.email`` as the user's verified primary address (people created by operators, the
    demo seed or tests, whose address nobody needs to prove by link). Idempotent; joins the caller's
    transaction. Raises IntegrityError when another user already holds the address verified."""
    address, _ = EmailAddress.objects.update_or_create(
        user=user, email=user.email.lower(), defaults={"verified": True, "primary": True}
    )
    return address
