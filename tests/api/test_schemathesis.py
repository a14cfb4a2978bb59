"""schemathesis against the running app: property-based requests generated from the OpenAPI document,
sent over HTTP to a live server (pytest-django's, started on a free port, on the test database) with a
full-scope key. For every operation: no 5xx, no status code the document does not list, no body
outside its documented schema, the documented content type. Cases are drawn both with random path
parameters and with the tenant's real objects in the path, so the state-changing operations run for
real too.

Bounded: ``SCHEMATHESIS_MAX_EXAMPLES`` per operation (default 15), no deadline, no shrinking phase."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tenants.models import Role
from tests.api.conftest import make_key
from tests.api.world import build_world, values_for
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15"))


def real_parameters(world, operation) -> dict:
    values = values_for(world, operation.path)
    return {parameter.name: values[parameter.name] for parameter in operation.path_parameters}


def test_the_api_keeps_its_documented_contract(live_server, tenant):
    owner = MembershipFactory(tenant=tenant, role=Role.OWNER).user
    world = build_world(tenant, owner)
    _key, secret = make_key(tenant, owner=owner)
    headers = {"Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    failures, tested = {}, []
    for result in schema.get_all_operations():
        operation = result.ok()
        strategy = operation.as_strategy()
        if operation.path_parameters:
            strategy = st.one_of(
                strategy, operation.as_strategy(path_parameters=real_parameters(world, operation))
            )

        @given(case=strategy)
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case):
            case.call_and_validate(base_url=live_server.url, headers=headers, checks=CHECKS)

        try:
            check()
        except Exception as error:  # noqa: BLE001 - collected, reported together below
            failures[operation.label] = str(error)[:2000]
        tested.append(operation.label)
    assert len(tested) >= 25, tested
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
