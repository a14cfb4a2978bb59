"""Two dispatchers at once on real PostgreSQL: every message is delivered exactly once.

Claims use ``SELECT … FOR UPDATE SKIP LOCKED`` and a lease; the test shows the race is real (the
dispatchers really overlap and both do work) and that nothing is delivered twice.
"""

import threading
from collections import Counter

import pytest
from django.db import connection

from notifications.dispatch import claim_due, dispatch_messages
from notifications.models import OutboxMessage
from tests.notifications.backends import RecordingSmsBackend
from tests.notifications.factories import OutboxMessageFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _sms(settings):
    settings.SMS_BACKEND = "tests.notifications.backends.RecordingSmsBackend"
    settings.NOTIFICATIONS_TASK_QUEUE = "vq-tests-not-consumed"
    RecordingSmsBackend.reset()
    yield
    RecordingSmsBackend.reset()


def _run_together(target, count=2):
    barrier = threading.Barrier(count)
    results, errors = [0] * count, []

    def worker(index):
        try:
            barrier.wait(5)
            results[index] = target()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def test_two_sweeping_dispatchers_deliver_each_message_once(tenant, settings):
    settings.NOTIFICATIONS_BATCH_SIZE = 4
    RecordingSmsBackend.delay_seconds = 0.02  # deliveries overlap with the other dispatcher's claims
    messages = [OutboxMessageFactory(tenant=tenant) for _ in range(40)]

    results = _run_together(lambda: dispatch_messages())

    assert sum(results) == 40
    assert all(r > 0 for r in results), f"both dispatchers must have worked: {results}"
    deliveries = Counter(to for to, _ in RecordingSmsBackend.sent)
    assert deliveries == Counter({m.recipient: 1 for m in messages})
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("sent", 1)}


def test_on_commit_task_and_sweep_racing_for_one_message_deliver_it_once(tenant):
    RecordingSmsBackend.delay_seconds = 0.2
    message = OutboxMessageFactory(tenant=tenant)

    results = _run_together(lambda: dispatch_messages(message_ids=[message.pk]), count=4)

    assert sorted(results) == [0, 0, 0, 1]
    assert RecordingSmsBackend.sent == [(message.recipient, RecordingSmsBackend.sent[0][1])]
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)


def test_claims_skip_rows_locked_by_another_claimer(tenant):
    """The lock matters: while one transaction holds a row, a second claimer skips it instead of waiting
    or taking it."""
    from django.db import transaction

    OutboxMessageFactory(tenant=tenant)
    OutboxMessageFactory(tenant=tenant)
    holding, release = threading.Event(), threading.Event()
    seen = {}

    def holder():
        try:
            with transaction.atomic():
                row = OutboxMessage.objects.select_for_update().order_by("pk").first()
                seen["held"] = row.pk
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    assert holding.wait(10)
    try:
        claimed = claim_due()
    finally:
        release.set()
        thread.join(10)
        connection.close()
    assert [m.pk for m in claimed] != [] and seen["held"] not in [m.pk for m in claimed]
