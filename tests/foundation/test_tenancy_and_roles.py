import pytest
from django.urls import reverse

from core.errors import NotFound, PermissionDenied
from core.tenancy import get_for_tenant
from tenants.access import resolve_membership
from tenants.models import Customer, Role, Tenant
from tenants.services import customer_upsert
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "minimum", "allowed"),
    [
        (Role.OWNER, Role.OWNER, True),
        (Role.OWNER, Role.STAFF, True),
        (Role.MANAGER, Role.OWNER, False),
        (Role.MANAGER, Role.MANAGER, True),
        (Role.STAFF, Role.MANAGER, False),
        (Role.STAFF, Role.STAFF, True),
    ],
)
def test_role_ranks(tenant, role, minimum, allowed):
    user = factories.MembershipFactory(tenant=tenant, role=role).user
    if allowed:
        assert resolve_membership(user, tenant.slug, minimum_role=minimum).tenant == tenant
    else:
        with pytest.raises(PermissionDenied):
            resolve_membership(user, tenant.slug, minimum_role=minimum)


def test_outsider_gets_not_found_not_forbidden(tenant, outsider):
    with pytest.raises(NotFound):
        resolve_membership(outsider, tenant.slug)


def test_unknown_tenant_is_not_found(owner):
    with pytest.raises(NotFound):
        resolve_membership(owner, "no-such-tenant")


def test_access_helper_refuses_cross_tenant_objects(tenant, other_tenant):
    mine = factories.CustomerFactory(tenant=tenant)
    theirs = factories.CustomerFactory(tenant=other_tenant)
    assert get_for_tenant(Customer, tenant, pk=mine.pk) == mine
    with pytest.raises(NotFound):
        get_for_tenant(Customer, tenant, pk=theirs.pk)
    with pytest.raises(NotFound):
        get_for_tenant(Customer, tenant, pk="not-a-number")
    assert list(Customer.objects.for_tenant(tenant)) == [mine]
    with pytest.raises(ValueError):
        Customer.objects.for_tenant(None)


def test_dashboard_pages_respect_membership(client, tenant, owner, outsider):
    url = reverse("dashboard:tenant", args=[tenant.slug])
    response = client.get(url)
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.post(reverse("dashboard:switch"), {"tenant": tenant.slug}).status_code == 404
    client.force_login(owner)
    page = client.get(url)
    assert page.status_code == 200 and tenant.name in page.content.decode()


def test_dashboard_lists_and_switches_between_a_users_tenants(client, tenant, other_tenant):
    user = factories.UserFactory()
    factories.MembershipFactory(user=user, tenant=tenant, role=Role.STAFF)
    factories.MembershipFactory(user=user, tenant=other_tenant, role=Role.OWNER)
    client.force_login(user)
    listing = client.get(reverse("dashboard:home")).content.decode()
    assert tenant.name in listing and other_tenant.name in listing
    response = client.post(reverse("dashboard:switch"), {"tenant": other_tenant.slug})
    assert response.status_code == 302 and response["Location"] == reverse(
        "dashboard:tenant", args=[other_tenant.slug]
    )
    assert client.session["current_tenant"] == other_tenant.slug


def test_switch_is_post_only(owner_client):
    assert owner_client.get(reverse("dashboard:switch")).status_code == 405


def test_reserved_slug_refused():
    from django.core.exceptions import ValidationError

    tenant = Tenant(account=factories.AccountFactory(), slug="dashboard", name="x")
    with pytest.raises(ValidationError, match="reserved"):
        tenant.full_clean()


def test_customer_upsert_is_case_insensitive_and_records_consent(tenant):
    first = customer_upsert(tenant=tenant, email="Fan@Example.test", name="Fan")
    again = customer_upsert(tenant=tenant, email="fan@example.TEST", email_consent=True, verified=True)
    assert first.pk == again.pk
    again.refresh_from_db()
    assert again.email_consent is True and again.name == "Fan"


def test_anonymous_upsert_never_changes_an_existing_customer(tenant):
    """Issue 15 #9: whoever knows a fan's email cannot rename them, change their phone or consent."""
    from tests.factories import UserFactory

    fan = customer_upsert(
        tenant=tenant, email="fan@example.test", name="Fan", phone="+1 555", email_consent=True
    )
    customer_upsert(
        tenant=tenant, email="FAN@example.test", name="Mallory", phone="+9 999", email_consent=False
    )
    fan.refresh_from_db()
    assert (fan.name, fan.phone, fan.email_consent, fan.user_id) == ("Fan", "+1 555", True, None)
    stranger = UserFactory(email="someone@example.test")
    customer_upsert(tenant=tenant, email="fan@example.test", name="Mallory", user=stranger)
    fan.refresh_from_db()
    assert (fan.name, fan.user_id) == ("Fan", None)
    # The fan themself, signed in with that address, can change it.
    me = UserFactory(email="fan@example.test")
    customer_upsert(tenant=tenant, email="fan@example.test", name="Fan Two", user=me)
    fan.refresh_from_db()
    assert (fan.name, fan.user_id) == ("Fan Two", me.pk)
