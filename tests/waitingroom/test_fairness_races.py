"""The admission log under real concurrency (real threads, one PostgreSQL connection each): joins,
leaves, purchases and admission passes racing on one event still produce one unbroken chain that the
verifier accepts — draw, line order and checkout limit included — with every change recorded once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.concurrency.test_ticketing_inventory import run_threads
from tests.factories import CustomerFactory, TenantFactory
from tests.waitingroom.factories import make_room
from ticketing import services as ticketing
from waitingroom import fairness, services, verify
from waitingroom.models import AdmissionRecord, EntryStatus, WaitingRoomEntry

pytestmark = pytest.mark.django_db(transaction=True)


def test_racing_joins_leaves_purchases_and_passes_leave_a_log_that_verifies():
    tenant = TenantFactory()
    opens = timezone.now() + timedelta(hours=1)
    event, room = make_room(tenant=tenant, checkout_limit=3, opens_at=opens, prequeue_shuffle=True)
    early = [CustomerFactory(tenant=tenant) for _ in range(20)]
    late = [CustomerFactory(tenant=tenant) for _ in range(20)]
    for customer in early:
        services.waiting_room_join(tenant=tenant, event=event, customer=customer)
    tier = event.tiers.get().id
    # Staff open the room now: the draw happens in the race below, whichever pass comes first.
    services.waiting_room_configure(tenant=tenant, actor=None, event=event, opens_at=timezone.now())

    def work(index):
        outcome = []
        if index < 20:
            entry, _ = services.waiting_room_join(tenant=tenant, event=event, customer=late[index])
            if index % 4 == 0:
                services.waiting_room_leave(tenant=tenant, entry=entry)
                outcome.append("left")
        elif index < 30:
            outcome.append(len(services.waiting_room_admit(event_id=event.id)))
        else:
            # Someone already admitted buys (the purchase records "complete" under the log lock).
            for entry in WaitingRoomEntry.objects.filter(event=event, status=EntryStatus.ADMITTED)[:1]:
                token = services.admission_token(entry)
                if token is None:
                    continue
                try:
                    session = ticketing.checkout_open(
                        tenant=tenant, event=event, quantities={tier: 1}, admission=token
                    )
                    session = ticketing.checkout_set_customer(
                        tenant=tenant, session=session, name="A", email=f"buyer{index}@example.test"
                    )
                    ticketing.checkout_complete(
                        tenant=tenant,
                        session=session,
                        provider="test_card",
                        payment_details={"card_number": "4242424242424242"},
                    )
                    outcome.append("bought")
                except Exception as error:  # noqa: BLE001 - another racer got there first
                    outcome.append(type(error).__name__)
        return outcome

    results = run_threads(36, work)
    crashes = [r for r in results[:30] if isinstance(r, Exception)]
    assert not crashes, crashes[:3]
    for _ in range(3):
        services.waiting_room_admit(event_id=event.id)
    lines = list(fairness.log_lines(event.id))
    summary = verify.verify_records(lines, head=lines[-1]["hash"])
    assert summary["drawn"] and summary["join"] == 40
    assert not AdmissionRecord.objects.filter(event=event, seq__isnull=True).exists()
    # Every entry's status agrees with the log's last word about it.
    last = {}
    for line in lines:
        if "entry" in line["data"]:
            last[line["data"]["entry"]] = line["type"]
    words = {
        "join": "waiting",
        "admit": "admitted",
        "complete": "completed",
        "expire": "expired",
        "leave": "left",
    }
    for public_id, status in WaitingRoomEntry.objects.filter(event=event).values_list("public_id", "status"):
        assert words[last[public_id]] == status
    draw = next(line for line in lines if line["type"] == "draw")
    assert len(draw["data"]["input"]) == 20
    assert room.draw_commitment == lines[0]["data"]["commitment"]
