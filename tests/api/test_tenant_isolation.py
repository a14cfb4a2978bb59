"""A key of tenant B gets 404 for every object of tenant A, on every operation of the API with an
object in its path (taken from the OpenAPI document, so a new endpoint is covered or this fails), and
sees none of A's objects in lists. The same requests with A's key do reach the objects."""

from __future__ import annotations

import pytest

from api.openapi import openapi_document
from tests.api.conftest import ApiClient, make_key
from tests.api.world import build_world, concrete_path

pytestmark = pytest.mark.django_db

OPERATIONS = [
    (method, path)
    for path, item in openapi_document()["paths"].items()
    for method in item
    if not path.startswith("/api/v1/public/")
]
# Two operations name A's object in the body instead of the path.
WITH_OBJECT = [(m, p) for m, p in OPERATIONS if "{" in p] + [
    ("post", "/api/v1/checkouts"),
    ("post", "/api/v1/waitlist-entries"),
]
LISTS = [p for m, p in OPERATIONS if m == "get" and "{" not in p]


def call(api: ApiClient, method: str, path: str, body):
    if method == "get":
        return api.get(path)
    if method == "put":
        return api.put(path, body)
    return api.post(path, body)


@pytest.fixture
def world(tenant, owner):
    return build_world(tenant, owner)


@pytest.mark.parametrize(("method", "template"), WITH_OBJECT)
def test_another_tenants_key_gets_404(world, client, other_tenant, method, template, owner):
    ours = ApiClient(client, make_key(world.tenant, owner=owner)[1])
    theirs = ApiClient(client, make_key(other_tenant)[1])
    path = concrete_path(world, template)
    assert "{" not in path, f"tests/api/world.py has no value for {template}"
    body = world.bodies.get((method, template), {})
    refused = call(theirs, method, path, body)
    assert refused.status_code == 404, (method, path, refused.status_code, refused.content)
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "not_found"
    reached = call(ours, method, path, body)
    assert reached.status_code != 404, (method, path, reached.content)


@pytest.mark.parametrize("path", LISTS)
def test_lists_show_nothing_of_another_tenant(world, client, other_tenant, path, owner):
    theirs = ApiClient(client, make_key(other_tenant)[1])
    ours = ApiClient(client, make_key(world.tenant, owner=owner)[1])
    listed = theirs.get(path)
    assert listed.status_code == 200, listed.content
    mine = ours.get(path).json()["items"]
    theirs_items = listed.json()["items"]
    system = [item for item in theirs_items if item.get("system")]  # shared system ticket types
    assert theirs_items == system
    assert len(mine) > len(system), f"{path}: the world has nothing to list; the test would prove nothing"
