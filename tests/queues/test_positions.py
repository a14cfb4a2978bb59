"""Closed-form positions against a brute-force simulation of the interleave, for random queues and random
histories (arrivals, calls by the interleave, out-of-order completions, lane changes)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queues import positions
from queues.live import StatusWatch


def simulate(cycle, phase, lanes):
    """Brute force: walk the slots from ``phase``, taking each lane's head, until everyone is served."""
    remaining = {lane: list(items) for lane, items in lanes.items()}
    order, index = [], phase % len(cycle)
    while any(remaining.values()):
        for step in range(len(cycle)):
            slot = (index + step) % len(cycle)
            if remaining.get(cycle[slot]):
                order.append(remaining[cycle[slot]].pop(0))
                index = slot + 1
                break
    return order


def closed_form(cycle, phase, lanes):
    waiting = {lane: len(items) for lane, items in lanes.items()}
    result = {}
    for lane, items in lanes.items():
        for rank, item in enumerate(items):
            result[item] = positions.position(
                cycle=cycle, phase=phase, lane_id=lane, rank=rank, waiting=waiting
            )
    return result


operations = st.lists(
    st.one_of(
        st.tuples(st.just("arrive"), st.integers(0, 3)),
        st.tuples(st.just("call"), st.just(0)),
        st.tuples(st.just("leave"), st.integers(0, 10_000)),  # out-of-order completion / rejection
        st.tuples(st.just("move"), st.integers(0, 10_000)),  # lane change
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(weights=st.lists(st.integers(1, 4), min_size=1, max_size=4), ops=operations, start=st.integers(0, 20))
def test_positions_match_brute_force(weights, ops, start):
    lane_ids = list(range(len(weights)))
    cycle = positions.build_cycle(list(zip(lane_ids, weights, strict=True)))
    phase = start % len(cycle)
    lanes = {lane: [] for lane in lane_ids}
    sequence = 0
    for op, arg in ops:
        everyone = [item for items in lanes.values() for item in items]
        if op == "arrive":
            sequence += 1
            lanes[arg % len(lane_ids)].append(sequence)
        elif op == "call":
            choice = positions.next_lane(
                cycle=cycle, phase=phase, waiting={k: len(v) for k, v in lanes.items()}
            )
            if choice is not None:
                expected_first = simulate(cycle, phase, lanes)[0]
                lane, phase = choice
                assert lanes[lane].pop(0) == expected_first
        elif op == "leave" and everyone:
            item = everyone[arg % len(everyone)]
            for items in lanes.values():
                if item in items:
                    items.remove(item)
        elif op == "move" and everyone:
            item = everyone[arg % len(everyone)]
            source = next(lane for lane, items in lanes.items() if item in items)
            target = (source + 1 + arg) % len(lane_ids)
            lanes[source].remove(item)
            lanes[target] = sorted([*lanes[target], item])  # keeps submission order in the new lane
        order = simulate(cycle, phase, lanes)
        computed = closed_form(cycle, phase, lanes)
        assert {item: place for place, item in enumerate(order, start=1)} == computed
        heads = {lane: items[:5] for lane, items in lanes.items()}
        assert [
            item for _lane, item in positions.interleave(cycle=cycle, phase=phase, heads=heads, limit=5)
        ] == order[:5]


def test_three_to_one_example():
    cycle = positions.build_cycle([("P", 3), ("L", 1)])
    lanes = {"P": [1, 2, 3, 4, 5], "L": [6, 7]}
    assert simulate(cycle, 0, lanes) == [1, 2, 3, 6, 4, 5, 7]
    # Continuing from the phase: two priority tickets were just served, so one more priority comes first.
    assert simulate(cycle, 2, lanes) == [1, 6, 2, 3, 4, 7, 5]
    assert closed_form(cycle, 2, lanes)[6] == 2


def test_phase_after_serving_out_of_turn():
    cycle = positions.build_cycle([("P", 3), ("L", 1)])
    assert positions.phase_after_serving(cycle=cycle, phase=0, lane_id="L") == 0
    assert positions.phase_after_serving(cycle=cycle, phase=1, lane_id="P") == 2


def test_eta_ranges():
    assert (
        positions.estimate(
            position=3, average_seconds=None, spread_seconds=None, samples=0, default_minutes=None
        )
        is None
    )
    configured = positions.estimate(
        position=3, average_seconds=None, spread_seconds=None, samples=0, default_minutes=10
    )
    assert (configured.low_minutes, configured.high_minutes, configured.basis) == (15, 45, "configured")
    history = positions.estimate(
        position=4, average_seconds=300, spread_seconds=60, samples=5, default_minutes=10
    )
    assert history.basis == "history" and history.low_minutes < 20 < history.high_minutes
    assert positions.rule_in_words([("Priority", 3), ("Personal", 1)]).startswith(
        "For every 3 priority requests, 1 personal request is served;"
    )


def test_rule_in_words_takes_the_weights_and_tips_it_is_given():
    assert positions.rule_in_words([("Paid", 2, "$7.50"), ("Free", 3, "")]) == (
        "For every 2 paid requests (tip of at least $7.50), 3 free requests (free) are served; "
        "within a lane, in the order they joined."
    )
    assert positions.rule_in_words([("A", 1), ("B", 2), ("C", 1)]) == (
        "Served in turns: 1 a request, then 2 b requests, then 1 c request; "
        "within a lane, in the order they joined."
    )
    assert positions.rule_in_words([("Main", 1, "$1.00")]) == (
        "Everyone is served in the order they joined (tip of at least $1.00)."
    )
    assert positions.rule_in_words([]) == "Nobody is being served from this queue right now."


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=operations, shuffle=st.randoms(), ahead=st.integers(0, 4))
def test_status_watch_tracks_rank_from_broadcast_changes(ops, shuffle, ahead):
    """A watcher that only sees the broadcast changes (possibly out of order, two at a time) keeps the
    same lane rank as a fresh count."""
    lanes = {0: [], 1: []}
    versions = {0: 0, 1: 0}
    sequence = 0
    mine_lane, mine = 0, None
    messages = []
    for op, arg in ops:
        sequence += 1
        lane = arg % 2
        if op in ("arrive", "call"):
            lanes[lane].append(sequence)
            versions[lane] += 1
            messages.append({"lane": lane, "version": versions[lane], "removed": None, "added": sequence})
            if mine is None and lane == mine_lane and len(lanes[mine_lane]) > ahead:
                mine = sequence
                watch = StatusWatch(
                    {
                        "ticket": 1,
                        "tenant_name": "T",
                        "lane": mine_lane,
                        "lane_name": "A",
                        "sequence": mine,
                        "state": "waiting",
                        "state_label": "waiting",
                        "phase": "waiting",
                        "turn": "",
                        "expired": False,
                        "rank": len(lanes[mine_lane]) - 1,
                        "lane_version": versions[mine_lane],
                        "lanes": [
                            {"id": k, "waiting": len(v), "version": versions[k]} for k, v in lanes.items()
                        ],
                        "cycle": [0, 1],
                        "phase_index": 0,
                        "eta": {},
                    }
                )
                messages = []
        elif lanes[lane]:
            item = lanes[lane][arg % len(lanes[lane])]
            if item == mine:
                continue
            lanes[lane].remove(item)
            versions[lane] += 1
            messages.append({"lane": lane, "version": versions[lane], "removed": item, "added": None})
    if mine is None:
        return
    batches = [messages[i : i + 2] for i in range(0, len(messages), 2)]
    shuffle.shuffle(batches)  # on_commit sends of concurrent transactions may arrive out of order
    snapshot = {
        "lanes": [{"id": k, "waiting": len(v), "version": versions[k]} for k, v in lanes.items()],
        "cycle": [0, 1],
        "phase": 0,
        "eta": {},
        "tickets": [],
    }
    for batch in batches:
        reply = watch.apply({**snapshot, "changes": batch})
    if batches:
        assert reply["type"] in ("status", "resync")
    if not watch.pending:
        assert watch.rank == lanes[mine_lane].index(mine)
    else:
        assert reply["type"] == "resync"


@pytest.mark.parametrize("weights", [[3, 1], [1], [2, 2, 1]])
def test_interleave_of_empty_queue(weights):
    cycle = positions.build_cycle(list(enumerate(weights)))
    assert positions.interleave(cycle=cycle, phase=0, heads={}, limit=10) == []
    assert positions.next_lane(cycle=cycle, phase=0, waiting={}) is None
