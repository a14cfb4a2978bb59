"""Two-factor authentication (allauth's TOTP + recovery codes) and the owner's requirement for a tenant."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.urls import reverse

from core.errors import PermissionDenied
from onboarding import services
from tenants.access import TwoFactorRequired, resolve_membership
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


def _totp(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def _log_in(client, user) -> None:
    """Through the login form, then allauth's re-authentication (it asks for the password again before any
    two-factor change, however recent the login)."""
    response = client.post(reverse("account_login"), {"login": user.email, "password": "pw-for-tests"})
    assert response.status_code == 302, response.content.decode()[:500]
    response = client.post(reverse("account_reauthenticate"), {"password": "pw-for-tests"})
    assert response.status_code == 302, response.content.decode()[:500]


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.ACCOUNT_RATE_LIMITS = False


def _code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def test_the_owner_needs_two_factor_before_requiring_it(client, owner, tenant):
    client.force_login(owner)
    url = reverse("onboarding:security", args=[tenant.slug])
    response = client.post(url, {"require_two_factor": "on"})
    assert response.status_code == 200 and "for yourself first" in response.content.decode()
    assert not Tenant.objects.get(pk=tenant.pk).require_two_factor
    _totp(owner)
    assert client.post(url, {"require_two_factor": "on"}).status_code == 302
    assert Tenant.objects.get(pk=tenant.pk).require_two_factor


def test_only_owners_change_the_requirement(tenant, manager):
    with pytest.raises(PermissionDenied):
        services.tenant_two_factor_require(tenant=tenant, actor=manager, required=True)


def test_members_without_two_factor_are_sent_to_set_it_up(client, owner, staff, tenant):
    dashboard = reverse("dashboard:tenant", args=[tenant.slug])
    _log_in(client, staff)
    assert client.get(dashboard).status_code == 200  # not required yet
    _totp(owner)
    services.tenant_two_factor_require(tenant=tenant, actor=owner, required=True)
    response = client.get(dashboard)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    assert "next=%2Fdashboard%2F" in response["Location"]
    queues = client.get(reverse("queues:queue_list", args=[tenant.slug]))
    assert queues.status_code == 302 and queues["Location"].startswith(reverse("mfa_activate_totp"))
    with pytest.raises(TwoFactorRequired):
        resolve_membership(staff, tenant.slug)  # sockets and other callers refuse too
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    _totp(staff)
    assert client.get(dashboard).status_code == 200


def test_the_requirement_is_per_tenant(client, owner, tenant, other_tenant):
    from tests import factories

    person = factories.UserFactory()
    factories.MembershipFactory(user=person, tenant=tenant)
    factories.MembershipFactory(user=person, tenant=other_tenant)
    _totp(owner)
    services.tenant_two_factor_require(tenant=tenant, actor=owner, required=True)
    client.force_login(person)
    assert client.get(reverse("dashboard:tenant", args=[tenant.slug])).status_code == 302
    assert client.get(reverse("dashboard:tenant", args=[other_tenant.slug])).status_code == 200


def test_login_with_totp_asks_for_the_code(client, settings):
    from tests import factories

    settings.ACCOUNT_RATE_LIMITS = False
    user = factories.UserFactory()
    secret = _totp(user)
    response = client.post(reverse("account_login"), {"login": user.email, "password": "pw-for-tests"})
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("dashboard:home")).status_code == 302  # not logged in yet
    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200 and 'class="field-error"' in wrong.content.decode()
    response = client.post(reverse("mfa_authenticate"), {"code": _code(secret)})
    assert response.status_code == 302
    assert client.get(reverse("dashboard:home")).status_code == 200


def test_recovery_codes_come_with_totp(client, settings):
    from tests import factories

    settings.ACCOUNT_RATE_LIMITS = False
    user = factories.UserFactory()
    _log_in(client, user)
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    response = client.post(reverse("mfa_activate_totp"), {"code": _code(secret)})
    assert response.status_code == 302
    types = set(Authenticator.objects.filter(user=user).values_list("type", flat=True))
    assert types == {Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES}
