"""Abuse: hostile requests are refused clearly and change nothing.

- CSRF: every URL of the site (public and dashboard; the Django admin is Django's own) is enumerated
  from the resolver and POSTed to by a signed-in owner holding a CSRF cookie but sending no token:
  each answers Django's 403 CSRF failure and no row of any table changes. No view is csrf_exempt.
- Websockets: every route refuses a handshake from a foreign Origin, a "null" one or none at all, while
  the same handshake from our own origin is accepted (so the refusal is the origin's doing).
- Another person's order, ticket, waiting-room entry, checkout session and waitlist offer: by its code
  under another tenant, or by its database id, it is a 404 that shows nothing of the owner; the POSTs
  (cancel a checkout, leave a line, claim an offer) change nothing.
- Admission tokens that are tampered, for another event, already used or expired open no checkout.
- Quantities 0, -1, 2^31, 1.5, "abc" and client-sent prices: a clear message, nothing reserved, and the
  price is always the server's.
- Hostile workflow JSON (10 000 levels deep, 10 MB, unknown states and targets): a clear
  ValidationError from the model, the dashboard form and the admin, never a RecursionError or a 500.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from api.services import api_key_create
from config.asgi import application, websocket_urlpatterns
from notifications.models import OutboxMessage
from notifications.webhooks import services as webhook_services
from privacy import services as privacy_services
from queues import services as queue_services
from queues.models import TicketType
from queues.workflow import SERVICE
from team import services as team_services
from tenants.models import Role
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.queues.factories import creator_queue, submit
from tests.support.factories import file_ticket
from tests.support.factories import support_queue as help_desk
from tests.ticketing.factories import buy, make_event
from tests.waitingroom.factories import join as join_room
from tests.waitingroom.factories import make_room
from tests.waitlists.factories import fresh, sold_out_event
from tests.waitlists.factories import join as join_waitlist
from ticketing import services as ticketing
from ticketing.admission import admission_sign
from ticketing.models import CheckoutSession, Order, SessionStatus, TicketTier
from ticketing.pricing import price_lines
from ticketing.views import signed_my_tickets_token
from waitingroom import services as room_services
from waitingroom.models import EntryStatus as RoomStatus
from waitlists import services as waitlist_services
from waitlists.models import EntryStatus as WaitlistStatus
from waitlists.models import WaitlistEntry

pytestmark = pytest.mark.django_db

OUR_ORIGIN = b"http://127.0.0.1:8000"


@pytest.fixture(autouse=True)
def _no_lookup_limits(settings):
    # The lookups below come from one address; the guessing limit has its own test (test_guessing).
    settings.RATE_LIMIT_LOOKUPS = "100000/60"
    cache.clear()
    yield
    cache.clear()


def flashed(response) -> str:
    return " ".join(str(message) for message in get_messages(response.wsgi_request))


def table_fingerprint() -> dict[str, str]:
    """Every table's rows, hashed: equal fingerprints mean no row was added, removed or changed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [name for (name,) in cursor.fetchall()]
        union = " UNION ALL ".join(
            f"SELECT '{name}', md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{name}\" t"
            for name in tables
        )
        cursor.execute(union)
        return dict(cursor.fetchall())


# --- a tenant with one of everything -----------------------------------------------------------------


class World:
    """Tenant A with an owner and one object of every kind a URL can name, and tenant B with its own
    owner and order."""

    def __init__(self, capture):
        self.tenant = TenantFactory()
        self.owner = MembershipFactory(tenant=self.tenant, role=Role.OWNER).user
        self.event = make_event(tenant=self.tenant, tiers=(("General", 2500, 20),))
        self.tier = self.event.tiers.get()
        self.order = buy(
            tenant=self.tenant, event=self.event, quantities={self.tier.id: 1}, email="ann@a.test"
        )
        self.ticket = self.order.tickets.get()
        self.message = OutboxMessage.objects.filter(tenant=self.tenant).first()
        session = ticketing.checkout_open(tenant=self.tenant, event=self.event, quantities={self.tier.id: 2})
        self.session = ticketing.checkout_set_customer(
            tenant=self.tenant, session=session, name="Sam", email="sam@a.test"
        )
        self.room_event, _room = make_room(
            tenant=self.tenant, event=make_event(tenant=self.tenant, title="Room sale", checkout_limit=1)
        )
        self.entry = join_room(self.tenant, self.room_event)
        room_services.waiting_room_admit(event_id=self.room_event.id)
        self.entry = fresh(self.entry)
        self.sold_out, (first_order,) = sold_out_event(
            tenant=self.tenant, title="Sold out show", tiers=(("General", 2500, 1),)
        )
        self.waitlisted = join_waitlist(tenant=self.tenant, event=self.sold_out, email="wen@a.test")
        with capture(execute=True):
            ticketing.order_cancel(tenant=self.tenant, actor=None, order=first_order)
        self.waitlisted = fresh(self.waitlisted)
        assert self.waitlisted.status == WaitlistStatus.OFFERED
        self.queue = creator_queue(self.tenant)
        self.request = submit(self.queue, "priority")
        self.help = help_desk(self.tenant)
        self.help_ticket = file_ticket(self.help)
        self.ticket_type = queue_services.ticket_type_save(
            tenant=self.tenant, actor=None, code="own", name="Own", workflow=SERVICE
        )
        self.invitation, _token = team_services.invitation_send(
            tenant=self.tenant, actor=self.owner, email="ivy@a.test", role="staff"
        )
        self.api_key, _secret = api_key_create(
            tenant=self.tenant, actor=self.owner, name="Kiosk", scopes=["read"]
        )
        self.data_request = privacy_services.data_request_confirm(
            tenant=self.tenant,
            token=privacy_services.ask_link_token(self.tenant, "ann@a.test", "export"),
        )
        self.endpoint = webhook_services.endpoint_create(
            tenant=self.tenant,
            actor=self.owner,
            url="https://93.184.215.14/hook",
            event_types=["order.refunded"],
        )
        self.other = TenantFactory()
        self.other_owner = MembershipFactory(tenant=self.other, role=Role.OWNER).user
        other_event = make_event(tenant=self.other, title="Other show")
        self.other_order = buy(
            tenant=self.other, event=other_event, quantities={other_event.tiers.get().id: 1}
        )

    def kwargs_for(self, name: str, keys: set[str]) -> dict:
        """Real values for the URL ``name``'s parameters (dummies only where nothing real exists)."""
        namespace = name.split(":")[0]
        support = namespace.startswith("support")
        by_route = {
            "ticketing_public:checkout": {"token": self.session.token},
            "ticketing_public:checkout_abandon": {"token": self.session.token},
            "ticketing_public:order": {"token": self.order.access_token},
            "ticketing_public:my_tickets": {"signed": signed_my_tickets_token(self.tenant, "ann@a.test")},
            "waitlists_public:offer": {"signed": waitlist_services.offer_link_token(self.waitlisted)},
            "waitlists:offer_now": {"event_id": self.sold_out.id},
            "waitlists:withdraw": {"event_id": self.sold_out.id},
            "waitingroom:room": {"event_id": self.room_event.id},
            "waitingroom:pause": {"event_id": self.room_event.id},
            "waitingroom:admit": {"event_id": self.room_event.id},
            "waitingroom_public:room": {"event_slug": self.room_event.slug},
            "waitingroom_public:verify": {"event_slug": self.room_event.slug, "signed": "not-signed"},
        }.get(name, {})
        values = {
            "tenant_slug": self.tenant.slug,
            "event_slug": self.event.slug,
            "event_id": self.event.id,
            "tier_id": self.tier.id,
            "venue_id": self.event.venue_id,
            "order_id": self.order.id,
            "action": "cancel",
            "code": self.ticket.code,
            "token": self.waitlisted.access_token if namespace.startswith("waitlists") else self.entry.token,
            "reference": self.help_ticket.reference if support else self.request.reference,
            "queue_slug": self.help.slug if support else self.queue.slug,
            "lane_id": self.queue.lanes.first().id,
            "pk": self.ticket_type.pk,
            "type_id": self.ticket_type.pk,
            "queue_id": self.queue.id,
            "key_id": self.api_key.pk,
            "message_id": getattr(self.message, "pk", 1),
            "entry_id": self.waitlisted.pk,
            "membership_id": self.owner.memberships.get(tenant=self.tenant).pk,
            "invitation_id": self.invitation.pk,
            "request_id": self.data_request.pk,
            "endpoint_id": self.endpoint.pk,
            "uidb64": "MQ",
            "uidb36": "1",
            "key": "not-a-key",
            "kind": "service",
            "slug": self.queue.slug,
            **by_route,
        }
        missing = keys - set(values)
        assert not missing, f"{name}: no value for {missing}"
        return {key: values[key] for key in keys}


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    return World(django_capture_on_commit_callbacks)


def every_route():
    """``(name, parameter names, callback)`` for every URL outside the admin."""

    def walk(patterns, namespaces, keys):
        for pattern in patterns:
            # path() routes name their parameters as converters, re_path() ones (allauth's) as groups.
            own = keys | set(pattern.pattern.converters) | set(pattern.pattern.regex.groupindex)
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin" or pattern.app_name == "admin":
                    continue
                yield from walk(
                    pattern.url_patterns,
                    [*namespaces, pattern.namespace] if pattern.namespace else namespaces,
                    own,
                )
            elif isinstance(pattern, URLPattern):
                assert pattern.name, f"an unnamed URL cannot be checked: {pattern.pattern}"
                yield ":".join([*namespaces, pattern.name]), own, pattern.callback

    return list(walk(get_resolver().url_patterns, [], set()))


# --- CSRF ---------------------------------------------------------------------------------------

# Provider webhooks are authenticated by the provider's signature, not a browser session: the only
# CSRF-exempt routes, and an unsigned post to them is refused too (tests/payments has the signed cases).
SIGNATURE_AUTHENTICATED = {"payments:stripe_webhook"}


def test_every_post_without_a_csrf_token_is_refused_and_changes_nothing(world):
    routes = every_route()
    # The REST API authenticates by bearer key (a browser never sends one by itself); its session use is
    # CSRF-checked by api.middleware, and it takes JSON bodies only (no cross-site form can send one).
    api_routes = [route for route in routes if route[0].startswith("api_v1:")]
    routes = [route for route in routes if not route[0].startswith("api_v1:")]
    assert api_routes
    exempt = {name for name, _keys, callback in routes if getattr(callback, "csrf_exempt", False)}
    assert exempt == SIGNATURE_AUTHENTICATED
    names = {name for name, _keys, _callback in routes}
    for known in (
        "ticketing_public:checkout_start",
        "queues:call_next",
        "waitlists_public:offer",
        "account_logout",
    ):
        assert known in names  # the enumeration really walks every app
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.owner)
    assert client.get(reverse("dashboard:tenant", args=[world.tenant.slug])).status_code == 200
    assert "csrftoken" in client.cookies  # the browser holds the cookie; the attacker cannot read it
    before = table_fingerprint()
    checked = []
    for name, keys, _callback in routes:
        url = reverse(name, kwargs=world.kwargs_for(name, keys))
        response = client.post(url, {"action": "claim", "paused": "1", "email": "x@evil.test", "name": "x"})
        checked.append(name)
        if name in SIGNATURE_AUTHENTICATED:
            assert response.status_code in (400, 404), (name, url, response.status_code)
            continue
        assert response.status_code == 403, (name, url, response.status_code)
        assert b"CSRF verification failed" in response.content, name
    for name, keys, _callback in api_routes:
        url = reverse(name, kwargs=world.kwargs_for(name, keys))
        response = client.post(url, {"action": "claim", "email": "x@evil.test", "name": "x"})
        assert response.status_code in (401, 404, 405, 415), (name, url, response.status_code)
    assert table_fingerprint() == before
    assert len(checked) == len(routes) > 60


# --- websockets ----------------------------------------------------------------------------------


def socket_paths(world, session_cookie: bytes) -> list[tuple[str, list]]:
    """A real path for every websocket route, with the headers our own page would send."""
    values = {
        "reference": world.request.reference,
        "queue_id": world.queue.id,
        "tenant_slug": world.tenant.slug,
        "queue_slug": world.queue.slug,
        "tenant_id": world.tenant.id,
    }
    paths = []
    for route in websocket_urlpatterns():
        keys = set(route.pattern.converters)
        text = str(route.pattern)
        params = dict(values)
        if text.startswith("ws/waitingroom/staff/"):
            params["event_id"] = world.room_event.id
        elif text.startswith("ws/waitingroom/"):
            params["token"] = world.entry.token
        elif text.startswith("ws/waitlists/"):
            params["token"] = world.waitlisted.access_token
        elif text.startswith("ws/support/"):
            params["reference"] = world.help_ticket.reference
        else:
            params["event_id"] = world.event.id
        assert keys <= set(params), f"no value for {keys - set(params)} in {text}"
        path = "/" + text
        for key in keys:
            converter = route.pattern.converters[key]
            path = path.replace(f"<{converter_name(converter)}:{key}>", str(params[key]))
        assert "<" not in path, path
        paths.append(path)
    headers = [(b"host", b"127.0.0.1"), (b"cookie", session_cookie)]
    return [(path, headers) for path in paths]


def converter_name(converter) -> str:
    return {"IntConverter": "int", "StringConverter": "str", "SlugConverter": "slug"}[
        type(converter).__name__
    ]


def handshake(path: str, headers: list) -> bool:
    async def scenario():
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await communicator.connect(timeout=10)
        if connected:
            await communicator.disconnect()
        return connected

    return async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_every_websocket_route_refuses_a_foreign_origin(world):
    client = Client()
    client.force_login(world.owner)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    routes = socket_paths(world, cookie)
    assert len(routes) == len(websocket_urlpatterns()) >= 8
    for path, headers in routes:
        assert handshake(path, [(b"origin", OUR_ORIGIN), *headers]), f"our own page cannot open {path}"
        for origin in (b"https://evil.example", b"http://127.0.0.1.evil.example", b"null"):
            assert not handshake(path, [(b"origin", origin), *headers]), (path, origin)
        assert not handshake(path, headers), f"{path} accepted a handshake without an Origin"


# --- another person's things -------------------------------------------------------------------------


def test_another_persons_things_are_404_by_code_elsewhere_or_by_id(world, client):
    a, b = world.tenant, world.other
    things = {
        "ticketing_public:order": ("token", world.order.access_token, world.order.pk),
        "ticketing_public:ticket": ("code", world.ticket.code, world.ticket.pk),
        "ticketing_public:checkout": ("token", world.session.token, world.session.pk),
        "waitingroom_public:entry": ("token", world.entry.token, world.entry.pk),
        "waitingroom_public:status": ("token", world.entry.token, world.entry.pk),
        "waitlists_public:entry": ("token", world.waitlisted.access_token, world.waitlisted.pk),
    }
    secrets = ("ann@a.test", "sam@a.test", "wen@a.test", world.order.reference)
    # Someone else, signed in, who bought from the same tenant: their own order opens, ours does not.
    stranger = UserFactory()
    own = buy(tenant=a, event=world.event, quantities={world.tier.id: 1}, email=stranger.email)
    client.force_login(stranger)
    assert (
        client.get(
            reverse("ticketing_public:order", kwargs={"tenant_slug": a.slug, "token": own.access_token})
        ).status_code
        == 200
    )
    for name, (key, code, pk) in things.items():
        assert client.get(reverse(name, kwargs={"tenant_slug": a.slug, key: code})).status_code == 200, name
        for tenant, value in ((b, code), (a, pk), (b, pk), (a, code.swapcase())):
            response = client.get(reverse(name, kwargs={"tenant_slug": tenant.slug, key: value}))
            assert response.status_code == 404, (name, tenant.slug, value)
            assert not any(secret.encode() in response.content for secret in secrets), name
    offer = waitlist_services.offer_link_token(world.waitlisted)
    for tenant, token in ((b, world.waitlisted.access_token), (a, world.waitlisted.pk)):
        url = reverse(
            "waitlists_public:offer", kwargs={"tenant_slug": tenant.slug, "token": token, "signed": offer}
        )
        assert client.get(url).status_code == 404
        assert client.post(url, {"action": "claim"}).status_code == 404
    before = table_fingerprint()
    for name, key, code in (
        ("ticketing_public:checkout_abandon", "token", world.session.token),
        ("waitingroom_public:leave", "token", world.entry.token),
        ("waitlists_public:leave", "token", world.waitlisted.access_token),
    ):
        for tenant, value in ((b, code), (a, str(world.session.pk))):
            assert (
                client.post(reverse(name, kwargs={"tenant_slug": tenant.slug, key: value})).status_code == 404
            )
    assert table_fingerprint() == before
    assert fresh(world.session).status == SessionStatus.ACTIVE
    assert fresh(world.entry).status == RoomStatus.ADMITTED
    assert fresh(world.waitlisted).status == WaitlistStatus.OFFERED
    # Members of another tenant: our objects by id under their own dashboard or ours are 404 too.
    client.force_login(world.other_owner)
    for url in (
        reverse("ticketing:order", kwargs={"tenant_slug": b.slug, "order_id": world.order.pk}),
        reverse("ticketing:order", kwargs={"tenant_slug": a.slug, "order_id": world.order.pk}),
        reverse("queues:ticket_detail", kwargs={"tenant_slug": b.slug, "reference": world.request.reference}),
        reverse("support:ticket", kwargs={"tenant_slug": b.slug, "reference": world.help_ticket.reference}),
        reverse("waitlists:event", kwargs={"tenant_slug": b.slug, "event_id": world.sold_out.pk}),
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.get(
            reverse("ticketing:order", kwargs={"tenant_slug": b.slug, "order_id": world.other_order.pk})
        ).status_code
        == 200
    )


# --- admission tokens ----------------------------------------------------------------------------------


def start_checkout(client, event, tier, admission: str):
    url = reverse(
        "ticketing_public:checkout_start", kwargs={"tenant_slug": event.tenant.slug, "event_slug": event.slug}
    )
    return client.post(url, {f"tier_{tier.id}": "1", "admission": admission})


def test_tampered_swapped_replayed_and_expired_admissions_open_no_checkout(client):
    tenant = TenantFactory()
    event, _room = make_room(tenant=tenant, checkout_limit=2)
    other_event, _ = make_room(
        tenant=tenant, event=make_event(tenant=tenant, title="Other sale", checkout_limit=2)
    )
    tier = event.tiers.get()
    buyer, holder = join_room(tenant, event), join_room(tenant, event)
    elsewhere = join_room(tenant, other_event)
    room_services.waiting_room_admit(event_id=event.id)
    room_services.waiting_room_admit(event_id=other_event.id)
    buyer, holder, elsewhere = fresh(buyer), fresh(holder), fresh(elsewhere)
    used = room_services.admission_token(buyer)
    order = buy_with_admission(tenant, event, tier, used)
    assert order.tickets.count() == 1
    valid = room_services.admission_token(holder)
    body, signature = valid.rsplit(":", 1)
    tampered = {
        "a changed signature": f"{body}:{signature[:-2]}{'AB' if signature[-2:] != 'AB' else 'CD'}",
        "a changed payload": valid.replace(valid[3], "x" if valid[3] != "x" else "y", 1),
        "no signature": body,
        "nonsense": "nonsense",
    }
    cases = {
        **tampered,
        "another event's": room_services.admission_token(elsewhere),
        "already used": used,
        "expired": admission_sign(
            event_id=event.id, entry_id=holder.pk, expires_at=timezone.now() - timedelta(seconds=1)
        ),
    }
    before = (CheckoutSession.objects.count(), TicketTier.objects.get(pk=tier.pk).reserved)
    for index, (label, token) in enumerate(cases.items()):
        response = start_checkout(Client(REMOTE_ADDR=f"10.5.0.{index + 1}"), event, tier, token)
        assert response.status_code == 302 and "/checkout/" not in response["Location"], label
        assert flashed(response), f"{label}: no message"
    assert (CheckoutSession.objects.count(), TicketTier.objects.get(pk=tier.pk).reserved) == before
    # The real admission still works (the refusals above were about the tokens, not the sale).
    opened = start_checkout(client, event, tier, valid)
    assert "/checkout/" in opened["Location"]
    # ... once: a second checkout from the same admission is refused while the first is live.
    again = start_checkout(Client(REMOTE_ADDR="10.5.1.1"), event, tier, valid)
    assert "/checkout/" not in again["Location"] and flashed(again)
    assert CheckoutSession.objects.filter(status=SessionStatus.ACTIVE, event=event).count() == 1


def buy_with_admission(tenant, event, tier, admission):
    session = ticketing.checkout_open(
        tenant=tenant, event=event, quantities={tier.id: 1}, admission=admission
    )
    session = ticketing.checkout_set_customer(tenant=tenant, session=session, name="B", email="b@x.test")
    return ticketing.checkout_complete(
        tenant=tenant,
        session=session,
        provider="test_card",
        payment_details={"card_number": "4242424242424242"},
    )


# --- quantities and prices ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "choose how many"),
        ("-1", "whole number"),
        (str(2**31), "at most 10"),
        ("9" * 5000, "at most 10"),
        ("1.5", "whole number"),
        ("abc", "whole number"),
        ("1e3", "whole number"),
        ("²", "whole number"),
    ],
)
def test_bad_quantities_get_a_clear_message_and_reserve_nothing(client, tenant, value, message):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 10), ("VIP", 9000, 5)))
    general, vip = event.tiers.order_by("position")
    url = reverse(
        "ticketing_public:checkout_start", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug}
    )
    tries = [{f"tier_{general.id}": value}]
    if value != "0":  # 0 of one type beside 1 of another is a fine order; the others never are
        tries.append({f"tier_{vip.id}": "1", f"tier_{general.id}": value})
    for data in tries:
        response = client.post(url, data)
        assert response.status_code == 302 and "/checkout/" not in response["Location"], data
        assert message in flashed(response).lower(), (data, flashed(response))
        page = client.get(response["Location"])
        assert page.status_code == 200 and message in page.content.decode().lower()
    assert not CheckoutSession.objects.exists()
    assert set(TicketTier.objects.values_list("reserved", flat=True)) == {0}


def test_client_sent_prices_are_ignored(client, tenant):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 10),))
    tier = event.tiers.get()
    forged = {
        "price": "1",
        f"price_{tier.id}": "1",
        "unit_price_cents": "1",
        "total_cents": "0",
        "fee_cents": "0",
    }
    start = client.post(
        reverse(
            "ticketing_public:checkout_start", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug}
        ),
        {f"tier_{tier.id}": "2", **forged},
    )
    checkout = start["Location"]
    client.post(checkout, {"step": "details", "name": "Pat", "email": "pat@example.test", **forged})
    paid = client.post(
        checkout,
        {
            "step": "pay",
            "provider": "test_card",
            "card_number": "4242 4242 4242 4242",
            "idempotency_key": "p1",
            **forged,
        },
    )
    assert "/orders/" in paid["Location"]
    order = Order.objects.get(event=event)
    expected = price_lines(event=event, lines=[(2500, 2)])
    assert (order.subtotal_cents, order.total_cents) == (expected.subtotal_cents, expected.total_cents)
    assert order.subtotal_cents == 5000
    assert list(order.items.values_list("unit_price_cents", "quantity")) == [(2500, 2)]


@pytest.mark.parametrize("value", ["0", "-1", str(2**31), "1.5", "abc"])
def test_bad_waitlist_quantities_are_form_errors(client, tenant, value):
    event, _orders = sold_out_event(tenant=tenant)
    url = reverse("waitlists_public:join", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug})
    response = client.post(url, {"email": "q@example.test", "quantity": value, "tier": "any"})
    assert response.status_code in (200, 422)
    assert "Select a valid choice" in response.content.decode()
    assert not WaitlistEntry.objects.filter(event=event).exists()


# --- hostile workflow JSON -------------------------------------------------------------------------------


def nested(levels: int):
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


def unknown_targets() -> dict:
    return dict(
        SERVICE, transitions=[*SERVICE["transitions"], {"name": "teleport", "from": "limbo", "to": "mars"}]
    )


HOSTILE_WORKFLOWS = {  # built when used: the 10 MB one is large
    "10 000 levels deep": (
        lambda: dict(SERVICE, transitions=[{"name": "go", "from": "received", "to": nested(10_000)}]),
        "nested too deeply",
    ),
    "10 MB": (
        lambda: dict(SERVICE, states=[*SERVICE["states"], *(f"s{n:07d}" for n in range(1_000_000))]),
        "too large",
    ),
    "a whole document nested": (lambda: nested(10_000), "nested too deeply"),
    "unknown states": (unknown_targets, "unknown state"),
}


@pytest.mark.parametrize("case", list(HOSTILE_WORKFLOWS))
def test_hostile_workflow_json_is_a_validation_error_from_the_model(tenant, case):
    build, message = HOSTILE_WORKFLOWS[case]
    workflow = build()
    candidate = TicketType(tenant=tenant, code="hostile", name="Hostile", workflow=workflow)
    with pytest.raises(DjangoValidationError) as error:
        candidate.full_clean()
    assert message in " ".join(error.value.message_dict["workflow"])
    with pytest.raises(DjangoValidationError):
        TicketType.objects.create(tenant=tenant, code="hostile", name="Hostile", workflow=workflow)
    assert not TicketType.objects.filter(code="hostile").exists()


def deep_text(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(
    ("text", "status", "message"),
    [
        (deep_text(10_000), 200, "nested too deeply"),
        ('{"init": "received", "states": ' + deep_text(10_000) + "}", 200, "nested too deeply"),
        ('{"init": "a", "states": [' + ",".join(f'"s{n}"' for n in range(150_000)) + "]}", 200, "too large"),
        (json.dumps(unknown_targets()), 200, "goes to unknown state &#x27;mars&#x27;"),
    ],
)
def test_hostile_workflow_json_in_the_dashboard_form(client, tenant, owner, text, status, message):
    client.force_login(owner)
    url = reverse("queues:type_create", kwargs={"tenant_slug": tenant.slug})
    response = client.post(url, {"code": "hostile", "name": "Hostile", "workflow": text})
    assert response.status_code == status, response.status_code
    assert message in response.content.decode()
    assert not TicketType.objects.filter(code="hostile").exists()


def test_a_10_mb_workflow_post_is_refused_before_parsing(client, tenant, owner):
    client.force_login(owner)
    url = reverse("queues:type_create", kwargs={"tenant_slug": tenant.slug})
    text = '{"states": [' + ",".join(f'"s{n:07d}"' for n in range(1_000_000)) + "]}"
    assert len(text) > 10_000_000
    response = client.post(url, {"code": "hostile", "name": "Hostile", "workflow": text})
    assert response.status_code == 400  # Django's request size limit: a bad request, not a 500
    assert not TicketType.objects.filter(code="hostile").exists()


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("workflow", deep_text(10_000), "nested too deeply"),
        ("custom_fields_schema", deep_text(10_000), "nested too deeply"),
        ("item_states", deep_text(10_000), "nested too deeply"),
        (
            "workflow",
            '{"init": "a", "states": [' + ",".join(f'"s{n}"' for n in range(150_000)) + "]}",
            "too large",
        ),
        ("workflow", '{"init": "received", "states": "mars"}', "non-empty list"),
        ("workflow", "not json", "Enter a valid JSON"),
    ],
)
def test_hostile_workflow_json_in_the_admin(client, tenant, field, text, message):
    operator = MembershipFactory(tenant=tenant).user
    operator.is_staff = operator.is_superuser = True
    operator.save()
    client.force_login(operator)
    data = {
        "tenant": tenant.pk,
        "code": "hostile",
        "name": "Hostile",
        "workflow": '{"init": "received"}',
        "custom_fields_schema": "{}",
        "item_states": "[]",
        field: text,
    }
    response = client.post(reverse("admin:queues_tickettype_add"), data)
    assert response.status_code == 200, response.status_code
    assert message in response.content.decode()
    assert not TicketType.objects.filter(code="hostile").exists()
