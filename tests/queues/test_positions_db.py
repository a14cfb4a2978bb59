"""The same brute-force check against the database: services move real tickets, selectors compute the
positions from lane ranks and counters, and both must match a simulation of the interleave."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queues import services
from queues.models import Queue, Ticket
from queues.selectors import main_line, queue_snapshot, ticket_position
from tests.factories import TenantFactory
from tests.queues.factories import creator_queue, submit
from tests.queues.test_positions import simulate

pytestmark = pytest.mark.django_db


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    near_boundary=st.integers(0, 6),
    ops=st.lists(
        st.tuples(st.sampled_from(["priority", "personal", "call", "cancel", "move"]), st.integers(0, 1000)),
        min_size=1,
        max_size=14,
    ),
)
def test_database_positions_match_brute_force(near_boundary, ops):
    from django.db import connection

    from queues.models import BLOCK_SIZE, LaneBlock

    # Start the lane sequences just below a block boundary, so ranks cross LaneBlocks.
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('queues_ticket_lane_sequence')")
        (current,) = cursor.fetchone()
        target = (current // BLOCK_SIZE + 1) * BLOCK_SIZE - near_boundary
        cursor.execute("SELECT setval('queues_ticket_lane_sequence', %s)", [target])
    tenant = TenantFactory()
    queue = creator_queue(tenant)
    lanes = {lane.code: lane for lane in queue.lanes.all()}
    for op, arg in ops:
        waiting = list(
            Ticket.objects.filter(queue=queue, phase="waiting").select_related(
                "ticket_type", "lane", "queue", "customer"
            )
        )
        if op in ("priority", "personal"):
            ticket = submit(queue, op)
            services.ticket_approve(tenant=tenant, actor=None, ticket=ticket)
        elif op == "call":
            services.ticket_call_next(tenant=tenant, actor=None, queue=queue)
        elif op == "cancel" and waiting:
            ticket = waiting[arg % len(waiting)]
            services.ticket_transition(
                tenant=tenant, actor=None, ticket=ticket, event="cancel", note="out of order"
            )
        elif op == "move" and waiting:
            ticket = waiting[arg % len(waiting)]
            target = lanes["personal"] if ticket.lane.code == "priority" else lanes["priority"]
            services.ticket_change_lane(tenant=tenant, actor=None, ticket=ticket, lane=target)
        fresh = Queue.objects.get(pk=queue.pk)
        snapshot = queue_snapshot(fresh)
        waiting = list(Ticket.objects.filter(queue=queue, phase="waiting").order_by("lane_sequence"))
        by_lane = {lane.id: [t.pk for t in waiting if t.lane_id == lane.id] for lane in snapshot.lanes}
        assert snapshot.waiting == {lane_id: len(items) for lane_id, items in by_lane.items()}
        for lane_id, items in by_lane.items():
            blocks = LaneBlock.objects.filter(lane_id=lane_id)
            assert sum(b.waiting for b in blocks) == len(items)
        expected = simulate(snapshot.cycle, snapshot.phase, by_lane) if waiting else []
        assert [ticket_position(t, snapshot)[0] for t in waiting] == [
            expected.index(t.pk) + 1 for t in waiting
        ]
        assert [t.pk for _place, t in main_line(snapshot, limit=50)] == expected[:50]
