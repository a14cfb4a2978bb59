"""Public identifiers cannot be guessed: random references and tokens match nothing, and one address
asking for many unknown ones is told to slow down (429) after the lookup limit, never served a 500."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from core.references import new_reference, new_token
from tests.ticketing.factories import buy, make_event
from ticketing.models import CheckoutSession, IssuedTicket, Order

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


def test_ten_thousand_random_references_and_tokens_hit_nothing(tenant):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 20),))
    for n in range(3):
        buy(tenant=tenant, event=event, quantities={event.tiers.get().id: 2}, email=f"b{n}@example.test")
    tokens = [new_token() for _ in range(10_000)]
    references = [new_reference() for _ in range(10_000)]
    assert len(set(tokens)) == len(tokens) and len(set(references)) == len(references)
    hits = (
        CheckoutSession.objects.filter(token__in=tokens).count()
        + Order.objects.filter(access_token__in=tokens).count()
        + IssuedTicket.objects.filter(code__in=tokens).count()
        + Order.objects.filter(reference__in=references).count()
    )
    from queues.models import Ticket

    hits += Ticket.objects.filter(reference__in=references).count()
    assert hits == 0
    # The identifiers that exist really are found by the same queries (the check can fail).
    real = Order.objects.first()
    assert Order.objects.filter(access_token__in=[*tokens[:5], real.access_token]).count() == 1


@pytest.mark.parametrize("kind", ["order", "ticket", "queue_status"])
def test_guessing_from_one_address_is_rate_limited(client, tenant, settings, kind):
    settings.RATE_LIMIT_LOOKUPS = "10/60"

    def url():
        if kind == "order":
            return reverse(
                "ticketing_public:order", kwargs={"tenant_slug": tenant.slug, "token": new_token()}
            )
        if kind == "ticket":
            return reverse(
                "ticketing_public:ticket", kwargs={"tenant_slug": tenant.slug, "code": new_token()}
            )
        return reverse("queues:status", kwargs={"reference": new_reference()})

    statuses = [client.get(url(), REMOTE_ADDR="203.0.113.9").status_code for _ in range(25)]
    assert statuses[:10] == [404] * 10
    assert set(statuses[10:]) == {429}
    # Another address is not punished for the first one's guesses.
    assert client.get(url(), REMOTE_ADDR="203.0.113.10").status_code == 404
