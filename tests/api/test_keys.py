"""API keys: created and revoked on the dashboard by owners and managers, shown once, stored hashed,
last use recorded; scopes enforced on every operation."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.urls import reverse

from api.models import ApiKey
from api.services import api_key_create, api_key_revoke
from core.errors import NotFound, PermissionDenied
from tenants.models import Role
from tests import factories
from tests.api.conftest import ApiClient, make_key
from tests.ticketing.factories import buy, make_event

pytestmark = pytest.mark.django_db


def test_a_key_is_shown_once_and_stored_only_as_a_hash(owner_client, tenant):
    url = reverse("apikeys:keys", args=[tenant.slug])
    response = owner_client.post(url, {"name": "Box office", "scopes": ["read", "check_in"]})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = re.search(r'value="(vq_[^"]+)"', response.content.decode()).group(1)
    key = ApiKey.objects.get(tenant=tenant)
    assert key.scopes == ["check_in", "read"]
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert not ApiKey.objects.filter(key_hash=secret).exists()
    assert secret not in owner_client.get(url).content.decode()  # never shown again
    assert key.prefix in owner_client.get(url).content.decode()


def test_the_key_page_needs_a_manager_and_hides_other_tenants(client, tenant, other_tenant, staff, outsider):
    url = reverse("apikeys:keys", args=[tenant.slug])
    client.force_login(staff)
    assert client.get(url).status_code == 403
    assert client.post(url, {"name": "x", "scopes": ["read"]}).status_code == 403
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    key, _secret = make_key(tenant)
    revoke = reverse("apikeys:revoke", args=[other_tenant.slug, key.pk])
    assert client.post(revoke).status_code == 404  # their tenant, our key
    key.refresh_from_db()
    assert key.revoked_at is None


def test_form_errors_are_shown_next_to_the_fields(owner_client, tenant):
    response = owner_client.post(
        reverse("apikeys:keys", args=[tenant.slug]), {"name": "", "scopes": ["root"]}
    )
    assert response.status_code == 422
    assert b"field-error" in response.content
    assert not ApiKey.objects.exists()


def test_revoked_keys_get_401_at_once(owner_client, client, tenant, owner):
    key, secret = make_key(tenant, owner=owner)
    api = ApiClient(client, secret)
    assert api.get("/api/v1/events").status_code == 200
    response = owner_client.post(reverse("apikeys:revoke", args=[tenant.slug, key.pk]))
    assert response.status_code == 302
    response = api.get("/api/v1/events")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_api_key"


def test_last_used_time_is_recorded(api, api_key):
    key, _secret = api_key
    assert key.last_used_at is None
    api.get("/api/v1/events")
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_services_refuse_staff_and_other_tenants(tenant, other_tenant, staff, owner):
    with pytest.raises(PermissionDenied):
        api_key_create(tenant=tenant, actor=staff, name="x", scopes=["read"])
    key, _ = api_key_create(tenant=tenant, actor=owner, name="x", scopes=["read"])
    with pytest.raises(NotFound):
        api_key_revoke(tenant=other_tenant, actor=owner, api_key=key)


def test_no_key_and_a_malformed_header_get_401(anon_api, client):
    response = anon_api.get("/api/v1/events")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    response = client.get("/api/v1/events", HTTP_AUTHORIZATION="Basic abc")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"


def test_scopes_are_enforced(client, tenant):
    event = make_event(tenant=tenant)
    tier = event.tiers.get()
    order = buy(tenant=tenant, event=event, quantities={tier.id: 1})
    code = order.tickets.get().code
    read_only = ApiClient(client, make_key(tenant, ["read"])[1])
    door = ApiClient(client, make_key(tenant, ["check_in"])[1])
    writer = ApiClient(client, make_key(tenant, ["write"])[1])

    assert read_only.get(f"/api/v1/orders/{order.reference}").status_code == 200
    refused = read_only.post(f"/api/v1/orders/{order.reference}/cancel")
    assert refused.status_code == 403 and refused.json()["code"] == "scope_missing"
    refused = read_only.post(f"/api/v1/events/{event.id}/check-ins", {"code": code})
    assert refused.status_code == 403

    assert door.get(f"/api/v1/orders/{order.reference}").status_code == 403
    scanned = door.post(f"/api/v1/events/{event.id}/check-ins", {"code": code})
    assert scanned.status_code == 200 and scanned.json()["admitted"] is True

    assert writer.get("/api/v1/events").status_code == 403
    assert writer.post(f"/api/v1/events/{event.id}/check-ins", {"code": code}).status_code == 403
    cancelled = writer.post(f"/api/v1/orders/{order.reference}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_a_member_session_works_with_the_tenant_header_and_csrf(client, tenant):
    member = factories.MembershipFactory(tenant=tenant, role=Role.STAFF).user
    event = make_event(tenant=tenant)
    client.force_login(member)
    assert client.get("/api/v1/events").status_code == 401  # which tenant? none named
    assert client.get("/api/v1/events", HTTP_X_TENANT=tenant.slug).status_code == 200
    outsider_slug = factories.TenantFactory().slug
    assert client.get("/api/v1/events", HTTP_X_TENANT=outsider_slug).status_code == 404

    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(member)
    body = {"event_id": event.id, "items": [{"tier_id": event.tiers.get().id, "quantity": 1}]}
    refused = csrf_client.post(
        "/api/v1/checkouts", body, content_type="application/json", HTTP_X_TENANT=tenant.slug
    )
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    csrf_client.get(reverse("dashboard:tenant", args=[tenant.slug]))
    token = csrf_client.cookies["csrftoken"].value
    accepted = csrf_client.post(
        "/api/v1/checkouts",
        body,
        content_type="application/json",
        HTTP_X_TENANT=tenant.slug,
        HTTP_X_CSRFTOKEN=token,
    )
    assert accepted.status_code == 201, accepted.content
