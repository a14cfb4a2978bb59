"""Load: many real threads through the real pages (Django test client, one per person) on real
PostgreSQL, then the invariants are read back from the database.

- 200 buyers race for the last 10 seats through the public checkout pages: exactly 10 orders and 10
  tickets, 190 clear "sold out" answers, nobody else is ever handed a checkout holding a seat, each
  order's confirmation written once, nothing of another tenant. The same race with the naive
  read-then-write purchase (test-only switch, ``ticketing.inventory``) fails these same checks — the
  proof that the checks can see an oversell.
- Orders over several tiers with their lines in shuffled order: every buyer is served at the first
  attempt (no deadlock, no Busy, no retry), every tier sold exactly to its last seat.
- 20 identical pay requests carrying one idempotency key: one order, one set of tickets, one
  confirmation.
- 8 staff press "call next" on one creator queue at once: distinct tickets, in the main line's
  FIFO + 3:1 order, every audit row allowed by the ticket type's workflow.

Connections: the threads share one bounded psycopg pool (what ``DB_POOL_MAX_SIZE`` configures for the
app), sized from the server's free connections — the embedded server allows 400, a stock local one 100
and others may be using it — so 200 threads queue for a connection instead of exhausting the server.
The pages under test go through the normal middleware (sessions, CSRF off as for the test client,
rate limits per client address).
"""

from __future__ import annotations

import copy
import random
import threading
import time
from collections import Counter

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.client import ClientHandler
from django.urls import reverse

from notifications.models import OutboxMessage
from queues import services as queue_services
from queues.models import Lane, Queue, Ticket, TicketEvent
from queues.selectors import main_line, queue_snapshot
from tenants.models import Customer, Role
from tests.concurrency.test_ticketing_inventory import Watcher, run_threads
from tests.factories import MembershipFactory, TenantFactory
from tests.queues.factories import creator_queue, submit
from tests.ticketing.factories import make_event
from ticketing.models import CheckoutSession, IssuedTicket, Order, OrderItem, SessionStatus, TicketTier

pytestmark = pytest.mark.django_db(transaction=True)

BUYERS = 200
LAST_SEATS = 10
CARD = "4242 4242 4242 4242"


# --- connections ----------------------------------------------------------------------------------


def connection_budget() -> int:
    """How many threads may hold a connection at once: a share of what the server has free right now
    (the embedded server allows 400, a stock local one 100, and other test runs may be using it)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        (maximum,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM pg_stat_activity")
        (in_use,) = cursor.fetchone()
    return max(4, min(48, (int(maximum) - int(in_use) - 10) // 2))


def run_gated(count: int, work, *, limit: int = 48) -> list:
    """``count`` real threads released together; at most ``connection_budget()`` (and ``limit``) of
    them hold a database connection at a time (the others wait at the gate, as requests wait for a
    bounded pool), and each gives its connection back when done."""
    gate = threading.BoundedSemaphore(min(limit, connection_budget()))

    def gated(index):
        with gate:
            try:
                return work(index)
            finally:
                connection.close()

    return run_threads(count, gated)


# --- helpers --------------------------------------------------------------------------------------


_handler: ClientHandler | None = None


def person(**defaults) -> Client:
    """A test client for one more person. They all share one handler: a new handler loads the
    middleware again, and WhiteNoise's scan of the static files would then cost more than the request."""
    global _handler
    if _handler is None:
        _handler = ClientHandler(enforce_csrf_checks=False)
        _handler.load_middleware()
    client = Client(**defaults)
    client.handler = _handler
    return client


def address(index: int) -> str:
    """A distinct client address per person (the checkout is rate limited per address)."""
    return f"10.77.{index // 250}.{index % 250 + 1}"


def flashed(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def press(client, url: str, data: dict, record: dict, *, retries: int = 5):
    """POST like a person: a 503 "busy, try again" (a lock wait ran past the lock timeout, which an
    overloaded machine can cause) is pressed again a moment later, and counted."""
    for _attempt in range(retries):
        response = client.post(url, data)
        if response.status_code != 503:
            return response
        record["busy"] += 1
        time.sleep(0.2)
    return response


def buy_through_pages(*, tenant, event, lines: dict[int, int], index: int, key: str | None = None) -> dict:
    """One person: choose tickets on the event page, give name and email, pay with the test card.
    Returns what happened (an exception is recorded, not raised, so the checks can see how far the
    person got): ``opened`` — they were handed a checkout holding seats; ``outcome`` — "order",
    "refused" (with the flashed ``message``) or what else happened."""
    record: dict = {"opened": False, "outcome": None, "message": "", "busy": 0}
    client = person(REMOTE_ADDR=address(index))
    start_url = reverse(
        "ticketing_public:checkout_start", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug}
    )
    try:
        choice = {f"tier_{tier_id}": str(quantity) for tier_id, quantity in lines.items()}
        for _attempt in range(5):
            start = client.post(start_url, choice)
            if start.status_code != 302 or "/checkout/" not in start["Location"]:
                record["message"] = " ".join(flashed(start)) or f"HTTP {start.status_code}"
                if "try again" in record["message"].lower():
                    record["busy"] += 1
                    time.sleep(0.2)
                    continue
            break
        if start.status_code != 302 or "/checkout/" not in start["Location"]:
            record["outcome"] = "refused"
            return record
        record["opened"] = True
        checkout = start["Location"]
        details = {"step": "details", "name": f"Buyer {index}", "email": f"buyer{index}@example.test"}
        response = press(client, checkout, details, record)
        assert response.status_code == 302, response.status_code
        payment = {"step": "pay", "provider": "test_card", "card_number": CARD}
        paid = press(client, checkout, {**payment, "idempotency_key": key or f"load-{index}"}, record)
        if paid.status_code == 302 and "/orders/" in paid["Location"]:
            record["outcome"] = "order"
            record["order_url"] = paid["Location"]
        else:
            record["outcome"] = f"HTTP {paid.status_code}"
            record["message"] = " ".join(flashed(paid))
    except Exception as error:  # noqa: BLE001 - the checks report it
        record["outcome"] = repr(error)
    return record


def assert_one_confirmation_per_order(orders) -> None:
    counts = Counter(
        OutboxMessage.objects.filter(
            event_type="order.confirmed", related_id__in=[str(order.pk) for order in orders]
        ).values_list("related_id", flat=True)
    )
    assert counts == {str(order.pk): 1 for order in orders}, counts


def assert_orders_belong_to(tenant, event) -> None:
    """No cross-tenant rows: every order, item, ticket, session and buyer of the event is the tenant's."""
    assert not Order.objects.filter(event=event).exclude(tenant=tenant).exists()
    assert not IssuedTicket.objects.filter(event=event).exclude(tenant=tenant).exists()
    assert not IssuedTicket.objects.filter(event=event).exclude(order__tenant=tenant).exists()
    assert not CheckoutSession.objects.filter(event=event).exclude(tenant=tenant).exists()
    assert not OrderItem.objects.filter(order__event=event).exclude(tier__event=event).exists()
    buyers = Order.objects.filter(event=event).values("customer")
    assert not Customer.objects.filter(pk__in=buyers).exclude(tenant=tenant).exists()


# --- the last 10 seats --------------------------------------------------------------------------


def race_for_the_last_seats():
    tenant = TenantFactory()
    TenantFactory()  # a bystander tenant: must end up with nothing
    event = make_event(tenant=tenant, tiers=(("Last ten", 4500, LAST_SEATS),), checkout_limit=BUYERS)
    tier = event.tiers.get()
    with Watcher(tier.id) as watcher:
        results = run_gated(
            BUYERS,
            lambda index: buy_through_pages(tenant=tenant, event=event, lines={tier.id: 1}, index=index),
        )
    return tenant, event, tier, results, watcher.samples


def check_last_seats(tenant, event, tier, results, samples) -> None:
    """Every invariant of the race, read back from the database. Fails with "oversell" first when more
    people were handed seats than exist."""
    opened = sum(1 for record in results if isinstance(record, dict) and record["opened"])
    assert opened <= tier.quantity, (
        f"oversell: {opened} buyers were handed a checkout for {tier.quantity} seats"
    )
    oversold = [(q, s, r, held) for q, s, r, held in samples if s + r > q or held > q]
    assert not oversold, f"oversell seen while the race ran: {oversold[:3]}"
    outcomes = Counter(record["outcome"] if isinstance(record, dict) else repr(record) for record in results)
    assert outcomes == {"order": LAST_SEATS, "refused": BUYERS - LAST_SEATS}, outcomes
    refusals = {record["message"] for record in results if record["outcome"] == "refused"}
    assert all("sold out" in m.lower() or "try again" in m.lower() for m in refusals), refusals
    row = TicketTier.objects.get(pk=tier.pk)
    assert (row.sold, row.reserved) == (LAST_SEATS, 0)
    orders = list(Order.objects.filter(event=event))
    assert len(orders) == LAST_SEATS
    assert set(OrderItem.objects.filter(order__event=event).values_list("quantity", "unit_price_cents")) == {
        (1, tier.price_cents)
    }
    tickets = IssuedTicket.objects.filter(event=event)
    assert tickets.count() == LAST_SEATS and tickets.values("code").distinct().count() == LAST_SEATS
    assert Counter(tickets.values_list("order_id", flat=True)) == {order.pk: 1 for order in orders}
    assert len({order.customer_id for order in orders}) == LAST_SEATS  # each buyer their own order
    assert not CheckoutSession.objects.filter(event=event, status=SessionStatus.ACTIVE).exists()
    assert CheckoutSession.objects.filter(event=event, status=SessionStatus.COMPLETED).count() == LAST_SEATS
    assert_one_confirmation_per_order(orders)
    assert_orders_belong_to(tenant, event)
    assert Order.objects.exclude(tenant=tenant).count() == 0


def test_200_buyers_race_through_the_pages_for_the_last_10_seats():
    tenant, event, tier, results, samples = race_for_the_last_seats()
    assert samples, "the watcher took no samples"
    check_last_seats(tenant, event, tier, results, samples)


def test_a_read_then_write_purchase_fails_the_same_checks(settings):
    """Mutation check: with the conditional UPDATE swapped for a read-check-then-write, the race above
    hands out more seats than exist, and ``check_last_seats`` says so."""
    settings.VQ_DISABLE_INVENTORY_PROTECTION = True
    tenant, event, tier, results, samples = race_for_the_last_seats()
    with pytest.raises(AssertionError, match="oversell"):
        check_last_seats(tenant, event, tier, results, samples)


# --- several tiers, lines in shuffled order --------------------------------------------------------


def deadlocks() -> int:
    """Deadlocks PostgreSQL has detected in this database (its statistics; a backend reports them at
    the latest when it exits, and every thread has closed its connection by the time this is read)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_multi_tier_orders_in_shuffled_line_order_all_succeed_first_time():
    tenant = TenantFactory()
    shuffler = random.Random(9)  # noqa: S311 - a reproducible shuffle, not a secret
    names = ["Floor", "Balcony", "Box", "Standing", "Terrace"]
    buyers = 40
    wishes: list[list[tuple[str, int]]] = []
    for _ in range(buyers):
        chosen = shuffler.sample(names, shuffler.randint(2, len(names)))
        wishes.append([(name, shuffler.randint(1, 2)) for name in chosen])  # already in random order
    demand = Counter()
    for wish in wishes:
        for name, quantity in wish:
            demand[name] += quantity
    # Exactly as many seats as asked for: every tier sells out on its last seat, nobody may be refused.
    event = make_event(
        tenant=tenant,
        tiers=tuple((name, 1000 + 500 * n, demand[name]) for n, name in enumerate(names)),
        checkout_limit=buyers,
    )
    tier_ids = dict(event.tiers.values_list("name", "id"))

    def work(index):
        lines = {tier_ids[name]: quantity for name, quantity in wishes[index]}  # dict keeps the shuffle
        return buy_through_pages(tenant=tenant, event=event, lines=lines, index=1000 + index)

    deadlocks_before = deadlocks()
    results = run_gated(buyers, work, limit=16)
    outcomes = Counter(record["outcome"] if isinstance(record, dict) else repr(record) for record in results)
    assert outcomes == {"order": buyers}, (outcomes, [r for r in results if r["outcome"] != "order"][:3])
    assert deadlocks() == deadlocks_before, "PostgreSQL detected a deadlock"
    for tier in TicketTier.objects.filter(event=event):
        assert (tier.sold, tier.reserved) == (tier.quantity, 0), tier.name
    orders = {
        order.customer.email: order for order in Order.objects.filter(event=event).select_related("customer")
    }
    assert len(orders) == buyers
    prices = dict(event.tiers.values_list("id", "price_cents"))
    for index, wish in enumerate(wishes):
        order = orders[f"buyer{1000 + index}@example.test"]
        bought = {item.tier_id: (item.quantity, item.unit_price_cents) for item in order.items.all()}
        assert bought == {tier_ids[name]: (quantity, prices[tier_ids[name]]) for name, quantity in wish}
        assert order.tickets.count() == sum(quantity for _name, quantity in wish)
    assert_one_confirmation_per_order(list(orders.values()))
    assert_orders_belong_to(tenant, event)


# --- one idempotency key, 20 identical requests -------------------------------------------------------


def test_20_identical_pay_requests_with_one_key_make_one_order():
    tenant = TenantFactory()
    event = make_event(tenant=tenant, tiers=(("General", 3000, 50),))
    tier = event.tiers.get()
    client = person(REMOTE_ADDR=address(7))
    start = client.post(
        reverse(
            "ticketing_public:checkout_start", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug}
        ),
        {f"tier_{tier.id}": "3"},
    )
    checkout = start["Location"]
    assert (
        client.post(checkout, {"step": "details", "name": "Dee", "email": "dee@example.test"}).status_code
        == 302
    )
    request = {"step": "pay", "provider": "test_card", "card_number": CARD, "idempotency_key": "same-click"}

    def pay(index):
        # The same click replayed from the buyer's own browser (a checkout answers only its holder).
        same_browser = person(REMOTE_ADDR=address(7))
        same_browser.cookies = copy.deepcopy(client.cookies)
        response = same_browser.post(checkout, request)
        return response.status_code, response.get("Location", "")

    results = run_gated(20, pay)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    assert {status for status, _location in results} == {302}
    assert len({location for _status, location in results}) == 1
    order = Order.objects.get(event=event)
    assert results[0][1].endswith(f"/orders/{order.access_token}/")
    assert order.tickets.count() == 3
    assert (TicketTier.objects.get(pk=tier.pk).sold, TicketTier.objects.get(pk=tier.pk).reserved) == (3, 0)
    assert CheckoutSession.objects.get(event=event).status == SessionStatus.COMPLETED
    assert_one_confirmation_per_order([order])
    assert_orders_belong_to(tenant, event)


# --- call next by 8 staff at once ---------------------------------------------------------------


def assert_audit_follows_the_workflow(queue) -> None:
    """Every TicketEvent of the queue is a move its ticket type's workflow allows, the rows of one
    ticket chain (each starts where the previous ended) and end in the ticket's state."""
    tickets = {t.pk: t for t in Ticket.objects.filter(queue=queue).select_related("ticket_type")}
    last_state: dict[int, str] = {}
    for row in TicketEvent.objects.filter(ticket__queue=queue).order_by("ticket_id", "id"):
        ticket = tickets[row.ticket_id]
        machine = ticket.ticket_type.machine
        assert row.tenant_id == ticket.tenant_id == queue.tenant_id
        if row.event == "submit":
            assert (row.from_state, row.to_state) == ("", machine.init)
            assert row.ticket_id not in last_state
        else:
            assert row.from_state == last_state[row.ticket_id], row
            if row.event in ("assign", "change_lane"):
                assert row.from_state == row.to_state
            else:
                move = machine.find(row.from_state, row.event)
                assert move is not None and move.target == row.to_state, f"not in the workflow: {row}"
        last_state[row.ticket_id] = row.to_state
    assert last_state == {pk: ticket.state for pk, ticket in tickets.items()}


def test_8_staff_calling_next_at_once_keep_fifo_and_three_to_one():
    tenant = TenantFactory()
    queue = creator_queue(tenant)
    staff = [MembershipFactory(tenant=tenant, role=Role.STAFF).user for _ in range(8)]
    approver = MembershipFactory(tenant=tenant, role=Role.OWNER).user
    lanes = ["priority"] * 12 + ["personal"] * 6
    random.Random(3).shuffle(lanes)  # noqa: S311 - arrival order, reproducible
    for code in lanes:
        ticket = submit(queue, code)
        queue_services.ticket_approve(tenant=tenant, actor=approver, ticket=ticket)
    expected = [entry.pk for _position, entry in main_line(queue_snapshot(Queue.objects.get(pk=queue.pk)))]
    assert len(expected) == len(lanes)
    url = reverse("queues:call_next", kwargs={"tenant_slug": tenant.slug, "queue_slug": queue.slug})
    clients = []
    for member in staff:
        client = person()
        client.force_login(member)
        clients.append(client)
    presses = Counter()
    lock = threading.Lock()

    def press_until_nobody_waits(index):
        while True:
            response = clients[index].post(url)
            with lock:
                presses[response.status_code] += 1
            if response.status_code == 503:  # Busy: the member presses again
                continue
            assert response.status_code == 302, response.status_code
            if any("Nobody is waiting" in message for message in flashed(response)):
                return

    results = run_gated(len(staff), press_until_nobody_waits)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors[:3]
    serve = queue.ticket_type.machine.first_into("approved", "serving").name
    calls = list(
        TicketEvent.objects.filter(ticket__queue=queue, event=serve)
        .order_by("id")
        .values_list("ticket_id", "actor_id")
    )
    called = [ticket_id for ticket_id, _actor in calls]
    assert len(called) == len(set(called)) == len(lanes), "a ticket was called twice or lost"
    assert called == expected, "the calls left the main line's order (FIFO per lane, 3 priority : 1 personal)"
    assert {actor for _ticket, actor in calls} <= {member.pk for member in staff}
    assert presses[302] == len(lanes) + len(staff)  # one call per ticket, one "nobody" per member
    assert set(Ticket.objects.filter(queue=queue).values_list("state", flat=True)) == {"in_progress"}
    assert list(Lane.objects.filter(queue=queue).values_list("waiting_count", flat=True)) == [0, 0]
    assert_audit_follows_the_workflow(queue)
