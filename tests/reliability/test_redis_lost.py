"""Redis lost during requests: PostgreSQL holds every invariant, so losing Redis (cache, rate limiter,
channel layer) must not fail a purchase or turn a page into a 500. Broadcasts and rate limits are best
effort by design (``core.broadcast``, ``core.ratelimit``). Redis is "lost" by pointing the cache and the
channel layer at a port where nothing listens."""

import socket

import pytest
from django.urls import reverse

from tests.ticketing.factories import buy, make_event
from ticketing.models import IssuedTicket, Order, TicketTier

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def redis_down(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = f"redis://127.0.0.1:{port}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": dead,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [dead]}}
    }
    return dead


def test_service_purchase_succeeds_without_redis(redis_down, tenant, django_capture_on_commit_callbacks):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 3),))
    tier = event.tiers.get()
    with django_capture_on_commit_callbacks(execute=True):
        order = buy(tenant=tenant, event=event, quantities={tier.id: 2})
    tier.refresh_from_db()
    assert Order.objects.get() == order
    assert (tier.sold, tier.reserved) == (2, 0)
    assert IssuedTicket.objects.filter(order=order).count() == 2


def test_purchase_pages_answer_without_redis(redis_down, client, tenant):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 3),))
    tier = event.tiers.get()
    page = client.get(
        reverse("ticketing_public:event", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug})
    )
    assert page.status_code == 200
    start = client.post(
        reverse(
            "ticketing_public:checkout_start", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug}
        ),
        {f"tier_{tier.id}": "1"},
    )
    assert start.status_code == 302 and "/checkout/" in start["Location"]
    details = client.post(start["Location"], {"step": "details", "name": "Ann", "email": "ann@example.test"})
    assert details.status_code == 302
    paid = client.post(
        start["Location"],
        {
            "step": "pay",
            "provider": "test_card",
            "card_number": "4242 4242 4242 4242",
            "idempotency_key": "k-1",
        },
    )
    assert paid.status_code == 302 and "/orders/" in paid["Location"]
    assert client.get(paid["Location"]).status_code == 200
    assert TicketTier.objects.get(pk=tier.id).sold == 1


def test_readiness_reports_redis_lost(redis_down, client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("error")
    assert client.get("/healthz").status_code == 200
