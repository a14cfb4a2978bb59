"""Faults with real processes: a web process or a Celery worker killed with SIGKILL at a chosen point,
two beats at once, a crash between commit and enqueue, a slow payment provider. After each fault the
database is checked for the invariants that must survive it: no oversell (sold + reserved = what live
holds and orders account for), no lost order, each side effect exactly once, admission never above the
limit.

How a process is stopped "mid-task": ``tests.reliability.faultpoints`` pauses the process at a named
function (inside the real transaction, which stays open) and writes a marker; the test sees the marker
and sends SIGKILL. A killed worker's task stays unacknowledged on Redis; ``redeliver_unacked`` does what
Redis does once the visibility timeout passes, so the next worker runs the very same message again.

Redis stopped during an on-sale and PostgreSQL restarted under load are in test_outages.py (their own
servers). A worker killed *before* an outbox message is sent is tests/notifications/
test_worker_integration.py; killed *after* sending, before recording, is here.
"""

from __future__ import annotations

import contextlib
import re
import sys
import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from notifications.models import OutboxMessage
from tests.factories import CustomerFactory
from tests.reliability.conftest import (
    Http,
    backends,
    fault,
    location_path,
    queued,
    redeliver_unacked,
    wait_for,
)
from tests.ticketing.factories import make_event
from tests.waitingroom.factories import join, make_room
from ticketing import services as ticketing
from ticketing.models import CheckoutSession, CheckoutSlot, IssuedTicket, Order, TicketTier

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

if sys.platform != "linux":  # pragma: no cover
    pytestmark.append(pytest.mark.skip(reason="process signals as on Linux"))


def fresh(instance):
    """FSM fields are protected: fetch a new instance instead of refresh_from_db."""
    return type(instance).objects.get(pk=instance.pk)


def succeeded(worker, task: str) -> list[str]:
    """The results of ``task`` runs the worker logged as succeeded, in order."""
    return re.findall(rf"Task {re.escape(task)}\[[^\]]+\] succeeded in [0-9.]+s: (.*)", worker.log())


def kill_at_fault(processes, process) -> None:
    """SIGKILL once the process sits at its fault point; then wait until its database sessions are gone
    (PostgreSQL rolls back the open transaction when the client's socket closes)."""
    processes.fault_reached(process)
    process.kill()
    wait_for(lambda: backends(process.name) == 0, 30, f"{process.name}'s database sessions to end")


def open_session(tenant, event, quantities, *, now=None, email="buyer@example.test") -> CheckoutSession:
    session = ticketing.checkout_open(tenant=tenant, event=event, quantities=quantities, now=now)
    return ticketing.checkout_set_customer(tenant=tenant, session=session, name="Buyer", email=email, now=now)


# --- Celery worker killed mid-task ----------------------------------------------------------------


def test_worker_killed_mid_expiry_sweep_releases_each_hold_once(tenant, processes):
    """The sweep expires due sessions in batches, one transaction each. Killed inside the batch (the
    sessions already marked expired in the open transaction, their seats about to be released): nothing
    of it commits, every session stays active with its seats held. The redelivered task then expires all
    of them once and another beat run finds nothing, and every tier's ``reserved`` equals exactly what
    the still-live holds account for — no seat released twice, none lost."""
    event = make_event(tenant=tenant, tiers=(("A", 1000, 10), ("B", 1000, 10)), checkout_limit=6)
    tier_a, tier_b = event.tiers.order_by("position")
    # The live hold first: opening a session takes a free checkout slot, and an expired session's slot
    # counts as free (its seats are released by whoever takes it).
    live = open_session(tenant, event, {tier_a.id: 3})
    past = timezone.now() - timedelta(hours=1)
    due = [
        open_session(tenant, event, {tier_a.id: 2}, now=past),
        open_session(tenant, event, {tier_b.id: 1}, now=past + timedelta(minutes=1)),
        open_session(tenant, event, {tier_a.id: 1}, now=past + timedelta(minutes=2)),
    ]
    assert [fresh(s).status for s in due] == ["active"] * 3

    first = processes.worker("worker-1", fault=fault("ticketing.inventory:release"))
    from ticketing.tasks import expire_checkout_sessions

    expire_checkout_sessions.apply_async(queue=processes.queue)
    kill_at_fault(processes, first)

    assert [fresh(s).status for s in due] == ["active"] * 3
    assert TicketTier.objects.get(pk=tier_a.pk).reserved == 2 + 1 + 3
    assert TicketTier.objects.get(pk=tier_b.pk).reserved == 1

    assert redeliver_unacked(processes.queue) == 1  # the killed task was not lost
    second = processes.worker("worker-2")
    task = "ticketing.tasks.expire_checkout_sessions"
    wait_for(lambda: len(succeeded(second, task)) == 1, 60, "the redelivered sweep", second)
    expire_checkout_sessions.apply_async(queue=processes.queue)  # beat's next tick
    wait_for(lambda: len(succeeded(second, task)) == 2, 60, "the next sweep", second)

    assert succeeded(second, task) == ["3", "0"]
    assert [fresh(s).status for s in due] == ["expired"] * 3
    assert fresh(live).status == "active"
    assert [(t.sold, t.reserved) for t in event.tiers.order_by("position")] == [(0, 3), (0, 0)]
    assert CheckoutSlot.objects.filter(event=event, session__isnull=False).count() == 1


def test_worker_killed_mid_admission_tick_admits_up_to_the_limit_once(tenant, processes):
    """Killed inside the admission pass after it admitted the next two people (not yet committed):
    nobody is admitted. The redelivered tick admits exactly the first two by number, the next tick none:
    admission never goes above the event's checkout limit, and nobody is skipped."""
    from waitingroom.models import EntryStatus, WaitingRoom
    from waitingroom.services import used_places, waiting_room_pause
    from waitingroom.tasks import admit

    event, _room = make_room(tenant=tenant, checkout_limit=2)
    # Paused while people join, so the on-commit pass of each join (which would admit at once in this
    # test process) admits nobody; resumed without that pass, leaving the work to the beat tick.
    waiting_room_pause(tenant=tenant, actor=None, event=event, paused=True)
    entries = [join(tenant, event) for _ in range(5)]
    WaitingRoom.objects.filter(event=event).update(admission_paused=False)
    assert {fresh(e).status for e in entries} == {EntryStatus.WAITING}

    first = processes.worker("worker-1", fault=fault("waitingroom.services:broadcast_moved"))
    admit.apply_async(queue=processes.queue)
    kill_at_fault(processes, first)
    assert {fresh(e).status for e in entries} == {EntryStatus.WAITING}

    assert redeliver_unacked(processes.queue) == 1
    second = processes.worker("worker-2")
    task = "waitingroom.tasks.admit"
    wait_for(lambda: len(succeeded(second, task)) == 1, 60, "the redelivered admission tick", second)
    admit.apply_async(queue=processes.queue)
    wait_for(lambda: len(succeeded(second, task)) == 2, 60, "the next tick", second)

    assert succeeded(second, task) == ["2", "0"]
    statuses = [fresh(e).status for e in sorted(entries, key=lambda e: e.number)]
    assert statuses == [EntryStatus.ADMITTED] * 2 + [EntryStatus.WAITING] * 3
    assert used_places(fresh(event), timezone.now()) == event.checkout_limit == 2


def test_worker_killed_mid_offer_round_offers_and_emails_each_entry_once(tenant, processes, monkeypatch):
    """Three seats come free on a sold-out event with three people on the waitlist. The process that
    freed them dies before its on-commit offer round (``seats_released`` does nothing here), so the beat's
    offer round is the one that runs — and its worker is killed after writing the first offer and its
    outbox row. Nothing of that round commits. After redelivery each person has exactly one offer, one
    held seat each (reserved = 3, never more), one outbox message and one email."""
    from tests.waitlists.factories import join as waitlist_join
    from tests.waitlists.factories import sold_out_event
    from waitlists.models import EntryStatus, WaitlistEntry
    from waitlists.tasks import process_offers

    event, (order,) = sold_out_event(tenant=tenant, tiers=(("General", 2500, 3),))
    entries = [waitlist_join(tenant=tenant, event=event, email=f"wait{i}@example.test") for i in range(3)]
    monkeypatch.setattr(ticketing, "seats_released", lambda tier_ids: None)
    ticketing.order_cancel(tenant=tenant, actor=None, order=order)
    tier = event.tiers.get()
    assert (fresh(tier).sold, fresh(tier).reserved) == (0, 0)
    assert {fresh(e).status for e in entries} == {EntryStatus.WAITING}

    first = processes.worker("worker-1", fault=fault("waitlists.services:_notify_offer", call=2))
    process_offers.apply_async(queue=processes.queue)
    kill_at_fault(processes, first)
    assert {fresh(e).status for e in entries} == {EntryStatus.WAITING}
    assert fresh(tier).reserved == 0
    assert not OutboxMessage.objects.filter(event_type="waitlist.offer").exists()

    assert redeliver_unacked(processes.queue) == 1
    second = processes.worker("worker-2")
    task = "waitlists.tasks.process_offers"
    wait_for(lambda: len(succeeded(second, task)) == 1, 60, "the redelivered offer round", second)
    process_offers.apply_async(queue=processes.queue)
    wait_for(lambda: len(succeeded(second, task)) == 2, 60, "the next round", second)
    messages = OutboxMessage.objects.filter(event_type="waitlist.offer")
    wait_for(lambda: messages.filter(status="sent").count() == 3, 60, "the offer emails", second)

    assert succeeded(second, task) == ["3", "0"]
    assert {fresh(e).status for e in entries} == {EntryStatus.OFFERED}
    assert (fresh(tier).sold, fresh(tier).reserved) == (0, 3)
    assert sorted(messages.values_list("recipient", flat=True)) == [e.customer.email for e in entries]
    assert sorted(sent_emails(processes)) == [e.customer.email for e in entries]
    assert WaitlistEntry.objects.filter(event=event, status=EntryStatus.OFFERED).count() == 3


def sent_emails(processes) -> list[str]:
    """Recipients of every email the processes' file backend wrote (one line "To: …" per email)."""
    if not processes.emails.exists():
        return []
    recipients = []
    for path in processes.emails.iterdir():
        recipients += re.findall(r"^To: (.+)$", path.read_text(), flags=re.MULTILINE)
    return recipients


def test_worker_killed_between_sending_an_email_and_recording_it(tenant, processes, settings):
    """The one window where delivery can repeat (README, notifications): the email has left, the worker
    dies before recording it. The message stays pending with a lease that runs out; the redelivered
    task sends it again and records it, a later sweep finds nothing. The receiver gets two copies with
    the same ``X-VirtualQ-Message-Id`` — one message after de-duplication — and the delivery log shows
    the lost attempt and the successful one. (Killed *before* the send, nothing is sent twice:
    tests/notifications/test_worker_integration.py.)"""
    from notifications.services import notify
    from notifications.tasks import dispatch_due
    from notifications.types import TICKET_CALLED

    settings.NOTIFICATIONS_TASK_QUEUE = processes.notify_queue
    short_lease = {"NOTIFICATIONS_CLAIM_SECONDS": "3"}
    customer = CustomerFactory(tenant=tenant, email="fan@example.test", email_consent=True)
    first = processes.worker(
        "worker-1",
        fault={
            **fault("django.core.mail.backends.filebased:EmailBackend.send_messages", when="after"),
            **short_lease,
        },
    )
    with transaction.atomic(durable=True):
        (message,) = notify(
            tenant=tenant,
            event_type=TICKET_CALLED,
            context={"subject": "Desk 4 is ready for you", "body": "Come now.", "action_url": "/status/X/"},
            customer=customer,
        )
    kill_at_fault(processes, first)
    assert sent_emails(processes) == ["fan@example.test"]
    assert (fresh(message).status, fresh(message).attempts) == ("pending", 1)

    second = processes.worker("worker-2", fault=short_lease)
    wait_for(lambda: fresh(message).claimed_until < timezone.now(), 30, "the dead worker's lease to end")
    assert redeliver_unacked(processes.notify_queue) == 1
    wait_for(lambda: fresh(message).status == "sent", 60, "the redelivered task to send", second)
    dispatch_due.apply_async(queue=processes.notify_queue)
    wait_for(lambda: len(succeeded(second, "notifications.tasks.dispatch_due")) == 1, 60, "a sweep", second)

    assert succeeded(second, "notifications.tasks.dispatch_due") == ["0"]
    assert sent_emails(processes) == ["fan@example.test"] * 2
    assert set(message_ids(processes)) == {str(message.pk)}
    attempts = list(fresh(message).delivery_attempts.order_by("number"))
    assert [(a.number, a.succeeded) for a in attempts] == [(1, False), (2, True)]
    assert "claim expired" in attempts[0].error


def message_ids(processes) -> list[str]:
    ids = []
    for path in processes.emails.iterdir():
        ids += re.findall(r"^X-VirtualQ-Message-Id: (\S+)$", path.read_text(), flags=re.MULTILINE)
    return ids


# --- web process killed mid-checkout --------------------------------------------------------------


def start_checkout_over_http(client: Http, tenant, event, tier, quantity: int) -> str:
    """Event page (CSRF cookie), choose seats, give the buyer's details; returns the checkout path."""
    assert client.get(f"/{tenant.slug}/e/{event.slug}/").status == 200
    start = client.post(f"/{tenant.slug}/e/{event.slug}/checkout/", {f"tier_{tier.id}": str(quantity)})
    assert start.status == 302, start.text[:500]
    checkout = location_path(start)
    details = client.post(checkout, {"step": "details", "name": "Ann", "email": "ann@example.test"})
    assert details.status == 302, details.text[:500]
    return checkout


PAY = {"step": "pay", "provider": "test_card", "card_number": "4242 4242 4242 4242"}


def pay_in_background(client: Http, checkout: str, key: str) -> threading.Thread:
    """The buyer's "Pay" request; its server is about to die, so the request ends in a dropped
    connection (the buyer sees an error and presses Pay again)."""

    def pay():
        with contextlib.suppress(OSError):
            client.post(checkout, {**PAY, "idempotency_key": key})

    thread = threading.Thread(target=pay, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    "point, committed",
    [
        # Inside the purchase transaction, while the card is being charged: nothing is committed.
        ("ticketing.payments:TestCardProvider.charge", False),
        # Just after the commit, before anything else (the outbox hand-off, the redirect).
        ("notifications.services:dispatch_soon", True),
    ],
    ids=["before-commit", "after-commit"],
)
def test_web_process_killed_mid_checkout_then_retry_with_same_key_makes_one_order(
    tenant, processes, point, committed
):
    """A daphne process is SIGKILLed in the middle of the "Pay" request; the buyer presses Pay again
    (same form, same idempotency key) and a fresh process answers. Exactly one order, two tickets, two
    seats sold and none left reserved, one confirmation message — whether the crash came before or after
    the commit."""
    event = make_event(tenant=tenant, tiers=(("General", 2500, 5),))
    tier = event.tiers.get()
    first = processes.daphne("web-1", fault=fault(point))
    client = Http(first.port)
    checkout = start_checkout_over_http(client, tenant, event, tier, 2)
    key = "retry-key-0001"
    request = pay_in_background(client, checkout, key)
    kill_at_fault(processes, first)
    request.join(30)

    assert Order.objects.filter(event=event).count() == (1 if committed else 0)
    assert (fresh(tier).sold, fresh(tier).reserved) == ((2, 0) if committed else (0, 2))

    second = processes.daphne("web-2")
    client.port = second.port
    retry = client.post(checkout, {**PAY, "idempotency_key": key})
    assert retry.status == 302 and "/orders/" in retry.header("Location"), retry.text[:500]

    order = Order.objects.get(event=event)
    assert order.idempotency_key == key and order.status == "paid"
    assert location_path(retry).rstrip("/").endswith(order.access_token)
    assert IssuedTicket.objects.filter(order=order).count() == 2
    assert (fresh(tier).sold, fresh(tier).reserved) == (2, 0)
    assert OutboxMessage.objects.filter(event_type="order.confirmed").count() == 1
    # Pressing Pay once more changes nothing.
    again = client.post(checkout, {**PAY, "idempotency_key": key})
    assert again.status == 302 and location_path(again) == location_path(retry)
    assert Order.objects.filter(event=event).count() == 1


def test_crash_between_commit_and_enqueue_the_outbox_delivers_after_restart(tenant, processes):
    """The web process commits the order with its confirmation message in the outbox, then dies before
    handing the message to the broker (on-commit ``dispatch_soon`` never runs): nothing is queued, the
    message is pending. After a restart the beat sweep (``dispatch_due``) delivers it, exactly once,
    and a second sweep finds nothing."""
    from notifications.tasks import dispatch_due

    event = make_event(tenant=tenant, tiers=(("General", 2500, 5),))
    tier = event.tiers.get()
    web = processes.daphne("web-1", fault=fault("notifications.services:dispatch_soon"))
    client = Http(web.port)
    checkout = start_checkout_over_http(client, tenant, event, tier, 1)
    request = pay_in_background(client, checkout, "outbox-key-1")
    kill_at_fault(processes, web)
    request.join(30)

    message = OutboxMessage.objects.get(event_type="order.confirmed")
    assert (message.status, message.attempts, message.recipient) == ("pending", 0, "ann@example.test")
    assert queued(processes.notify_queue) == 0  # never handed to the broker

    worker = processes.worker("worker-1")
    dispatch_due.apply_async(queue=processes.notify_queue)  # what beat sends every 30 s
    wait_for(lambda: fresh(message).status == "sent", 60, "the sweep to deliver", worker)
    dispatch_due.apply_async(queue=processes.notify_queue)
    wait_for(lambda: len(succeeded(worker, "notifications.tasks.dispatch_due")) == 2, 60, "sweep 2", worker)

    assert succeeded(worker, "notifications.tasks.dispatch_due") == ["1", "0"]
    assert fresh(message).attempts == 1
    assert sent_emails(processes) == ["ann@example.test"]


# --- two beats at once ----------------------------------------------------------------------------


def test_two_beat_processes_at_once_each_periodic_effect_happens_once(tenant, processes):
    """Two beat processes (as after a botched deploy) both send the checkout-expiry sweep, the waitlist
    offer round and the admission tick every second, and two workers run the duplicates side by side.
    Each effect still happens once: two expired holds released once (their seats offered to exactly two
    waitlist entries, one outbox message each, the third entry still waiting), and exactly the checkout
    limit admitted from the waiting room."""
    from waitingroom.models import EntryStatus as RoomStatus
    from waitingroom.models import WaitingRoom
    from waitingroom.services import used_places, waiting_room_pause
    from waitlists.models import EntryStatus
    from waitlists.services import waitlist_join

    # Sale 1: two seats sold, two held by checkouts that expired an hour ago, three people waitlisted.
    sale = make_event(tenant=tenant, title="Sale one", tiers=(("General", 2500, 4),))
    tier = sale.tiers.get()
    ticketing.checkout_complete(
        tenant=tenant,
        session=open_session(tenant, sale, {tier.id: 2}),
        provider="test_card",
        payment_details={"card_number": "4242 4242 4242 4242"},
    )
    past = timezone.now() - timedelta(hours=1)
    stale = [open_session(tenant, sale, {tier.id: 1}, now=past) for _ in range(2)]
    waiting = [
        waitlist_join(tenant=tenant, event=sale, email=f"w{i}@example.test", quantity=1, now=past)[0]
        for i in range(3)
    ]
    # Sale 2: a waiting room with four people and room for two in checkout.
    room_event, _room = make_room(tenant=tenant, title="Sale two", checkout_limit=2)
    waiting_room_pause(tenant=tenant, actor=None, event=room_event, paused=True)
    entries = [join(tenant, room_event) for _ in range(4)]
    WaitingRoom.objects.filter(event=room_event).update(admission_paused=False)

    workers = [processes.worker(f"worker-{n}") for n in (1, 2)]
    names = "ticketing-expire-checkout-sessions,waitlists-process-offers,waitingroom-admit"
    beats = [processes.beat(f"beat-{n}", extra={"VQ_TEST_BEAT_TASKS": names}) for n in (1, 2)]

    def sent(beat, entry: str) -> int:
        return beat.log().count(f"Sending due task {entry} ")

    wait_for(
        lambda: all(sent(b, e) >= 3 for b in beats for e in names.split(",")),
        90,
        "both beats to send every task three times",
        *beats,
    )
    for beat in beats:
        beat.stop()
    wait_for(lambda: queued(processes.queue) == 0, 60, "the workers to drain the queue", *workers)
    offers = OutboxMessage.objects.filter(event_type="waitlist.offer")
    wait_for(lambda: offers.filter(status="sent").count() == 2, 60, "the offer emails", *workers)
    for worker in workers:
        worker.stop()  # a warm shutdown finishes the task in hand

    runs = sum(len(succeeded(w, "ticketing.tasks.expire_checkout_sessions")) for w in workers)
    assert runs >= 6  # both beats' sends ran (at least three from each)
    assert [fresh(s).status for s in stale] == ["expired", "expired"]
    assert [fresh(e).status for e in waiting] == [EntryStatus.OFFERED] * 2 + [EntryStatus.WAITING]
    assert (fresh(tier).sold, fresh(tier).reserved) == (2, 2)
    assert sorted(offers.values_list("recipient", flat=True)) == ["w0@example.test", "w1@example.test"]
    assert sorted(sent_emails(processes)) == ["w0@example.test", "w1@example.test"]
    statuses = [fresh(e).status for e in sorted(entries, key=lambda e: e.number)]
    assert statuses == [RoomStatus.ADMITTED] * 2 + [RoomStatus.WAITING] * 2
    assert used_places(fresh(room_event), timezone.now()) == 2


# --- slow payment provider ------------------------------------------------------------------------


def test_slow_payment_provider_holds_no_tier_or_event_lock(tenant, monkeypatch):
    """While a buyer's card is being charged (the provider call blocks until the test lets it go),
    another transaction takes the same tier's and the event's row locks with NOWAIT — no waiting — and a
    second buyer completes a whole purchase of the same tier. The only rows locked across the call are the
    paying buyer's own checkout session and slot (the probe on the session row does fail, so the probe
    can see a held lock). Afterwards both orders exist and the inventory adds up."""
    from django.db import OperationalError, connection, transaction

    from ticketing.payments import TestCardProvider

    event = make_event(tenant=tenant, tiers=(("General", 2500, 5),))
    tier = event.tiers.get()
    session = open_session(tenant, event, {tier.id: 1}, email="slow@example.test")
    charging, release = threading.Event(), threading.Event()
    real_charge = TestCardProvider.charge
    payer: dict = {}

    def slow_charge(self, **kwargs):
        if threading.current_thread() is payer.get("thread"):
            charging.set()
            release.wait(60)
        return real_charge(self, **kwargs)

    monkeypatch.setattr(TestCardProvider, "charge", slow_charge)

    def pay():
        try:
            payer["order"] = ticketing.checkout_complete(
                tenant=tenant,
                session=session,
                provider="test_card",
                payment_details={"card_number": "4242 4242 4242 4242"},
                idempotency_key="slow-provider-1",
            )
        except Exception as error:  # noqa: BLE001 - reported below
            payer["error"] = error
        finally:
            connection.close()

    payer["thread"] = threading.Thread(target=pay)
    payer["thread"].start()
    try:
        assert charging.wait(30), "the provider was never called"

        def nowait(table: str, pk: int) -> bool:
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE NOWAIT", [pk])
                return True
            except OperationalError:
                return False

        assert nowait(TicketTier._meta.db_table, tier.id)
        assert nowait(type(event)._meta.db_table, event.id)
        assert not nowait(CheckoutSession._meta.db_table, session.id)  # the payer's own row: held
        other = ticketing.checkout_complete(
            tenant=tenant,
            session=open_session(tenant, event, {tier.id: 2}, email="quick@example.test"),
            provider="test_card",
            payment_details={"card_number": "4242 4242 4242 4242"},
        )
        assert "order" not in payer  # the slow payment is still in progress
    finally:
        release.set()
        payer["thread"].join(60)

    assert "error" not in payer, payer.get("error")
    assert Order.objects.filter(pk__in=[payer["order"].pk, other.pk], status="paid").count() == 2
    assert (fresh(tier).sold, fresh(tier).reserved) == (3, 0)
