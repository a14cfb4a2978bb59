"""Create your space: the account and tenant, the live address check, what the space runs, sharing."""

import random
import uuid

import pytest
from django.urls import reverse

from onboarding import services
from queues.models import Queue, QueueKind
from support.models import SupportAgent
from tenants.models import Account, Membership, Role, Tenant
from tests import factories
from ticketing.models import Event, EventStatus

pytestmark = pytest.mark.django_db


def _space(**overrides):
    data = {
        "name": "Mia Draws",
        "slug": "mia-draws",
        "time_zone": "Europe/Madrid",
        "currency": "EUR",
        "language": "es",
        "account_name": "",
        "billing_email": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def person(client):
    user = factories.UserFactory(email="mia@person.test")
    client.force_login(user)
    return user


def test_create_your_space_makes_the_account_tenant_and_owner(client, person):
    assert client.get(reverse("onboarding:start")).status_code == 200
    response = client.post(reverse("onboarding:start"), _space(slug="Mia-Draws"))
    assert response.status_code == 302
    tenant = Tenant.objects.get(slug="mia-draws")
    assert response["Location"] == reverse("onboarding:setup", args=["mia-draws"])
    assert (tenant.name, tenant.time_zone, tenant.currency, tenant.language) == (
        "Mia Draws", "Europe/Madrid", "EUR", "es"
    )  # fmt: skip
    assert tenant.account.name == "Mia Draws" and tenant.account.billing_email == "mia@person.test"
    assert Membership.objects.get(tenant=tenant).user == person
    assert Membership.objects.get(tenant=tenant).role == Role.OWNER
    assert client.get(reverse("onboarding:setup", args=["mia-draws"])).status_code == 200


def test_the_space_needs_a_login_and_a_verified_address(client):
    response = client.get(reverse("onboarding:start"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    unverified = factories.UserFactory(verified=False)
    with pytest.raises(Exception, match="Verify your email"):
        services.space_create(actor=unverified, account_name="", billing_email="", **_space_fields())
    assert not Tenant.objects.exists()


def _space_fields(**overrides):
    fields = {"name": "Mia", "slug": "mia-x", "time_zone": "UTC", "currency": "EUR", "language": "en"}
    fields.update(overrides)
    return fields


@pytest.mark.parametrize("slug", ["admin", "accounts", "Dashboard", "start", "status", "healthz", "api"])
def test_reserved_addresses_are_refused_with_a_reason(client, person, slug):
    response = client.post(reverse("onboarding:start"), _space(slug=slug))
    assert response.status_code == 200
    assert "reserved" in response.content.decode()
    assert not Tenant.objects.exists() and not Account.objects.exists()


@pytest.mark.parametrize(
    ("slug", "why"),
    [
        ("a", "3 to 60"),
        ("two--hyphens", "single hyphens"),
        ("-edge", "single hyphens"),
        ("ünï", "lower-case"),
    ],
)
def test_malformed_addresses_get_a_field_error_and_keep_the_input(client, person, slug, why):
    response = client.post(reverse("onboarding:start"), _space(slug=slug, name="Keep me"))
    page = response.content.decode()
    assert response.status_code == 200 and why in page and 'value="Keep me"' in page
    assert not Tenant.objects.exists()


def test_bad_time_zone_currency_and_language_are_field_errors(client, person):
    response = client.post(
        reverse("onboarding:start"), _space(time_zone="Mars/Olympus", currency="XX", language="tlh")
    )
    assert response.status_code == 200
    assert response.content.decode().count('class="field-error"') == 3
    assert not Tenant.objects.exists()


def test_a_taken_address_is_refused(client, person):
    factories.TenantFactory(slug="mia-draws")
    response = client.post(reverse("onboarding:start"), _space())
    assert response.status_code == 200 and "is taken" in response.content.decode()
    assert Tenant.objects.count() == 1


def test_the_live_address_check_reads_only(client, tenant):
    url = reverse("onboarding:address_check")
    assert client.get(url, {"slug": "Fresh-Name"}).json() == {
        "slug": "fresh-name",
        "available": True,
        "message": "“fresh-name” is available.",
    }
    taken = client.get(url, {"slug": tenant.slug}).json()
    assert taken["available"] is False and "taken" in taken["message"]
    reserved = client.get(url, {"slug": "dashboard"}).json()
    assert reserved["available"] is False and "reserved" in reserved["message"]
    assert client.post(url, {"slug": "x"}).status_code == 405
    assert Tenant.objects.count() == 1


def test_the_address_check_is_rate_limited(client, monkeypatch):
    from onboarding import views

    monkeypatch.setattr(views, "SLUG_CHECK_RATE", "2/60")
    client.defaults["REMOTE_ADDR"] = f"203.0.113.{random.randint(1, 254)}-{uuid.uuid4().hex}"
    url = reverse("onboarding:address_check")
    codes = [
        client.get(url, {"slug": f"name-{n}"}, HTTP_ACCEPT="application/json").status_code for n in range(4)
    ]
    assert codes == [200, 200, 429, 429]


def _owned_space(client, person):
    client.post(reverse("onboarding:start"), _space())
    return Tenant.objects.get(slug="mia-draws")


def test_a_creator_queue_ends_on_its_share_page_with_a_qr_code(client, person, settings):
    tenant = _owned_space(client, person)
    response = client.post(
        reverse("onboarding:setup_kind", args=[tenant.slug, "creator"]),
        {"name": "Portrait requests", "slug": "", "minimum_tip": "7.50", "priority_enabled": "on",
         "personal_enabled": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    queue = Queue.objects.get(tenant=tenant)
    assert (queue.kind, queue.slug) == (QueueKind.CREATOR, "portrait-requests")
    lanes = {lane.code: lane for lane in queue.lanes.all()}
    assert lanes["priority"].minimum_tip_cents == 750 and lanes["priority"].weight == 3
    assert lanes["personal"].enabled
    share = client.get(response["Location"])
    page = share.content.decode()
    public = reverse("queues_public:submit", args=[tenant.slug, queue.slug])
    assert share.status_code == 200 and f"{settings.SITE_URL}{public}" in page and "<svg" in page
    assert client.get(public).status_code == 200


def test_a_creator_queue_with_one_lane_off(client, person):
    tenant = _owned_space(client, person)
    client.post(
        reverse("onboarding:setup_kind", args=[tenant.slug, "creator"]),
        {"name": "Shout-outs", "minimum_tip": "0", "personal_enabled": "on"},
    )
    lanes = {lane.code: lane.enabled for lane in Queue.objects.get(tenant=tenant).lanes.all()}
    assert lanes == {"priority": False, "personal": True}
    response = client.post(
        reverse("onboarding:setup_kind", args=[tenant.slug, "creator"]), {"name": "None", "minimum_tip": "1"}
    )
    assert response.status_code == 200 and "at least one lane" in response.content.decode()
    assert Queue.objects.filter(tenant=tenant).count() == 1


def test_a_service_queue_on_a_picked_or_a_defined_ticket_type(client, person):
    tenant = _owned_space(client, person)
    url = reverse("onboarding:setup_kind", args=[tenant.slug, "service"])
    picked = client.get(url).context["form"].fields["ticket_type"].initial
    assert client.post(url, {"name": "Counter", "ticket_type": picked.pk}).status_code == 302
    response = client.post(
        url,
        {
            "name": "Repairs",
            "new_type_name": "Repair",
            "new_type_steps": "Waiting\nOn the bench\nReady\nCollected",
        },
    )
    assert response.status_code == 302
    repairs = Queue.objects.get(tenant=tenant, slug="repairs")
    assert repairs.ticket_type.tenant == tenant
    assert repairs.ticket_type.workflow["init"] == "waiting"
    assert repairs.ticket_type.workflow["phases"]["collected"] == "done"
    page = client.get(reverse("queues_public:submit", args=[tenant.slug, "repairs"]))
    assert page.status_code == 200
    bad = client.post(url, {"name": "Bad", "new_type_steps": "Only one"})
    assert bad.status_code == 200 and "at least two steps" in bad.content.decode()
    neither = client.post(url, {"name": "Neither", "ticket_type": ""})
    assert neither.status_code == 200 and "write your steps" in neither.content.decode()


def test_an_event_goes_on_sale_with_its_tiers(client, person):
    tenant = _owned_space(client, person)
    url = reverse("onboarding:setup_kind", args=[tenant.slug, "event"])
    data = {
        "title": "Spring show", "starts_at": "2031-04-10T19:30", "ends_at": "2031-04-10T22:00",
        "venue_name": "Sala Sol", "venue_city": "Madrid", "venue_address": "", "venue_capacity": "200",
        "tier_1_name": "General", "tier_1_price": "15", "tier_1_quantity": "150",
        "tier_2_name": "Front row", "tier_2_price": "40", "tier_2_quantity": "20",
    }  # fmt: skip
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = Event.objects.get(tenant=tenant)
    assert event.status == EventStatus.ON_SALE
    assert sorted(event.tiers.values_list("name", "price_cents", "quantity")) == [
        ("Front row", 4000, 20), ("General", 1500, 150)
    ]  # fmt: skip
    assert event.starts_at.isoformat() == "2031-04-10T17:30:00+00:00"  # Madrid summer time
    share = client.get(response["Location"])
    assert reverse("ticketing_public:event", args=[tenant.slug, event.slug]) in share.content.decode()
    too_many = client.post(url, {**data, "title": "Other", "venue_name": "Small", "venue_capacity": "10"})
    assert too_many.status_code == 200 and "more people than the venue" in too_many.content.decode()
    backwards = client.post(url, {**data, "title": "Back", "ends_at": "2031-04-10T18:00"})
    assert backwards.status_code == 200 and "after the start" in backwards.content.decode()
    assert Event.objects.filter(tenant=tenant).count() == 1


def test_a_help_desk_with_the_owner_as_its_agent(client, person):
    tenant = _owned_space(client, person)
    response = client.post(
        reverse("onboarding:setup_kind", args=[tenant.slug, "help-desk"]),
        {"name": "Help", "turnaround_hours": "4"},
    )
    assert response.status_code == 302
    queue = Queue.objects.get(tenant=tenant, kind=QueueKind.SUPPORT)
    assert SupportAgent.objects.filter(support_queue__queue=queue, user=person, is_primary=True).exists()
    assert client.get(reverse("support_public:submit", args=[tenant.slug, queue.slug])).status_code == 200
    bad = client.post(
        reverse("onboarding:setup_kind", args=[tenant.slug, "help-desk"]),
        {"name": "Later", "turnaround_hours": "0"},
    )
    assert bad.status_code == 200 and 'class="field-error"' in bad.content.decode()


def test_setup_pages_are_the_tenants_own(client, tenant, outsider, staff):
    queue = Queue.objects.create(
        tenant=tenant, slug="line", name="Line", kind=QueueKind.SERVICE, ticket_type=_service_type()
    )
    urls = [
        reverse("onboarding:setup", args=[tenant.slug]),
        reverse("onboarding:setup_kind", args=[tenant.slug, "creator"]),
        reverse("onboarding:share", args=[tenant.slug, "service", queue.slug]),
        reverse("onboarding:security", args=[tenant.slug]),
    ]
    client.force_login(outsider)
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"name": "x", "require_two_factor": "on"}).status_code == 404, url
    client.force_login(staff)
    for url in urls:
        assert client.get(url).status_code == 403, url
    assert Queue.objects.filter(tenant=tenant).count() == 1
    assert not Tenant.objects.get(pk=tenant.pk).require_two_factor


def test_the_share_page_of_another_tenants_queue_is_a_404(client, owner, tenant, other_tenant):
    Queue.objects.create(
        tenant=other_tenant, slug="theirs", name="Theirs", kind=QueueKind.SERVICE, ticket_type=_service_type()
    )
    client.force_login(owner)
    assert client.get(reverse("onboarding:share", args=[tenant.slug, "service", "theirs"])).status_code == 404
    assert client.get(reverse("onboarding:setup_kind", args=[tenant.slug, "nonsense"])).status_code == 404


def _service_type():
    from queues.services import system_ticket_type

    return system_ticket_type("service")


def test_home_and_empty_dashboard_offer_create_your_space(client):
    assert reverse("onboarding:start") in client.get("/").content.decode()
    client.force_login(factories.UserFactory())
    page = client.get(reverse("dashboard:home")).content.decode()
    assert "Create your space" in page and reverse("onboarding:start") in page


def test_pressing_create_twice_is_one_space(client, person):
    first = client.post(reverse("onboarding:start"), _space())
    second = client.post(reverse("onboarding:start"), _space())
    assert first["Location"] == second["Location"] == reverse("onboarding:setup", args=["mia-draws"])
    assert Tenant.objects.count() == 1 and Account.objects.count() == 1


def test_someone_elses_space_is_not_taken_for_a_double_submit(client, person):
    other = factories.UserFactory()
    services.space_create(actor=other, account_name="", billing_email="", **_space_fields(slug="mia-draws"))
    response = client.post(reverse("onboarding:start"), _space())
    assert response.status_code == 200 and "is taken" in response.content.decode()
