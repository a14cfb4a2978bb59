"""What outside testing found beyond the twelve classes of issue 15.

- The API answers every error as problem+json: an unknown path under /api/ is 404, a route without that
  method 405 (with Allow), the schema and docs pages read-only; they used to answer with the HTML
  not-found page, a bare "Method not allowed" and (docs, schema) 200 to any method.
- HTTP TRACE and made-up methods answer 405 everywhere (a page answered TRACE with itself, 200).
- One person owns at most MAX_SPACES_PER_USER spaces, with a clear message, even from parallel tabs.
- Public queue submission through the API counts against the same per-address and per-email budget as
  the form (it had only the API's 60 a minute).
"""

from __future__ import annotations

import json
import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse

from onboarding import services as onboarding_services
from queues.models import Ticket
from tenants.models import Membership, Role, Tenant
from tests import factories
from tests.queues.factories import creator_queue

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/api/v1/nope", 404),
        ("GET", "/api/nope", 404),
        ("GET", "/api/v1/queues/", 404),
        ("POST", "/api/v1/no/such/thing", 404),
        ("DELETE", "/api/v1/queues", 405),
        ("PUT", "/api/v1/queues", 405),
        ("DELETE", "/api/v1/openapi.json", 405),
        ("DELETE", "/api/v1/docs", 405),
    ],
)
def test_api_errors_for_unknown_paths_and_methods_are_problem_json(client, method, path, status):
    response = client.generic(method, path, b"{}", content_type="application/json")
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content)
    assert body["status"] == status
    assert body["code"] == {404: "not_found", 405: "method_not_allowed"}[status]
    if status == 405:
        assert "GET" in response["Allow"]


def test_the_api_schema_still_answers_get(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.json()["openapi"].startswith("3.")


@pytest.mark.parametrize("method", ["TRACE", "TRACK", "CONNECT", "PROPFIND", "FOO"])
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/static/css/app.css", "/api/v1/openapi.json"])
def test_trace_and_unknown_methods_answer_405_everywhere(client, method, path):
    response = client.generic(method, path)
    assert response.status_code == 405
    assert "TRACE" not in response["Allow"] and "GET" in response["Allow"]
    if path.startswith("/api/"):
        assert response["Content-Type"] == PROBLEM
    assert b"<html" not in response.content.lower()


def test_known_methods_still_reach_the_pages(client):
    assert client.get("/").status_code == 200
    assert client.head("/").status_code == 200
    assert client.options("/").status_code != 405


def _space(slug):
    return {
        "name": f"Space {slug}",
        "slug": slug,
        "time_zone": "Europe/Madrid",
        "currency": "EUR",
        "language": "en",
        "account_name": "",
        "billing_email": "",
    }


def test_one_person_owns_at_most_the_configured_number_of_spaces(client, settings):
    settings.ACCOUNT_RATE_LIMITS = False
    settings.MAX_SPACES_PER_USER = 2
    person = factories.UserFactory(email="many@spaces.test")
    client.force_login(person)
    for slug in ("first-space", "second-space"):
        assert client.post(reverse("onboarding:start"), _space(slug)).status_code == 302
    refused = client.post(reverse("onboarding:start"), _space("third-space"))
    assert refused.status_code == 200
    assert "the most one person can create" in refused.content.decode()
    assert not Tenant.objects.filter(slug="third-space").exists()
    assert Membership.objects.filter(user=person, role=Role.OWNER).count() == 2
    # Someone else is not affected by this person's spaces.
    other = factories.UserFactory(email="other@spaces.test")
    client.force_login(other)
    assert client.post(reverse("onboarding:start"), _space("third-space")).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_parallel_space_creations_never_pass_the_limit(settings):
    settings.MAX_SPACES_PER_USER = 2
    person = factories.UserFactory(email="racer@spaces.test")
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def create(number):
        try:
            barrier.wait()
            onboarding_services.space_create(actor=person, **_space(f"race-space-{number}"))
            outcomes.append("created")
        except Exception as error:  # noqa: BLE001 - the outcome is what the test counts
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ValidationError", "ValidationError", "created", "created"]
    assert Membership.objects.filter(user=person, role=Role.OWNER).count() == 2


def test_api_queue_submission_is_limited_per_address_and_per_email(settings, tenant_for_api):
    settings.RATE_LIMIT_SUBMISSIONS = "4/600"
    settings.RATE_LIMIT_SUBMISSIONS_PER_EMAIL = "2/600"
    cache.clear()
    queue = creator_queue(tenant_for_api)
    url = f"/api/v1/public/{tenant_for_api.slug}/queues/{queue.slug}/tickets"

    def submit(email, remote="198.51.100.20"):
        body = {"lane": "personal", "name": "Fan", "email": email, "need_text": "A song"}
        return Client().post(url, body, content_type="application/json", REMOTE_ADDR=remote)

    assert [submit("same@fan.test").status_code for _ in range(3)] == [201, 201, 429]
    refused = submit("same@fan.test", remote="198.51.100.99")  # a new address does not reset the email
    assert refused.status_code == 429 and refused["Content-Type"] == PROBLEM
    assert int(refused["Retry-After"]) > 0
    assert [submit(f"fan{n}@fan.test").status_code for n in range(2)] == [201, 429]  # 4 per address
    assert Ticket.objects.filter(queue=queue).count() == 3
    # Someone else, from elsewhere, still gets in.
    assert submit("else@fan.test", remote="203.0.113.5").status_code == 201
    cache.clear()


@pytest.fixture
def tenant_for_api():
    return factories.TenantFactory()
