"""Signed links in notifications: unsubscribe and customer preferences.

A token names one person (customer or staff user) of one tenant, and optionally the event type the email
was about. It is signed with the project secret (``core.signing``), so it cannot be forged or pointed at
someone else; it is long-lived on purpose (emails are read late) and only ever lets its holder change
that person's notification switches.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from core.errors import NotFound
from core.signing import sign, unsign
from notifications.services import absolute_url

SALT = "notifications.preferences"
MAX_AGE_SECONDS = 400 * 24 * 3600


def person_token(*, tenant, customer=None, user=None, event_type: str = "") -> str:
    if (customer is None) == (user is None):
        raise ValueError("A link names exactly one customer or one user")
    payload = {"t": tenant.pk, "e": event_type}
    if customer is not None:
        payload["c"] = customer.pk
    else:
        payload["u"] = user.pk
    return sign(payload, salt=SALT)


def resolve_token(token: str) -> dict:
    """Return ``{"tenant", "customer", "user", "event_type"}`` for a valid token or raise NotFound."""
    from tenants.models import Customer, Tenant, User

    data = unsign(token, salt=SALT, max_age_seconds=MAX_AGE_SECONDS)
    tenant = Tenant.objects.filter(pk=data.get("t")).first()
    if tenant is None:
        raise NotFound(_("This link is no longer valid."))
    customer = user = None
    if "c" in data:
        customer = Customer.objects.filter(tenant=tenant, pk=data["c"]).first()
        if customer is None:
            raise NotFound(_("This link is no longer valid."))
    else:
        user = User.objects.filter(pk=data.get("u"), memberships__tenant=tenant).first()
        if user is None:
            raise NotFound(_("This link is no longer valid."))
    return {"tenant": tenant, "customer": customer, "user": user, "event_type": data.get("e", "")}


def unsubscribe_url(token: str) -> str:
    return absolute_url(reverse("notifications:unsubscribe", args=[token]))


def preferences_url(token: str) -> str:
    return absolute_url(reverse("notifications:preferences_public", args=[token]))
