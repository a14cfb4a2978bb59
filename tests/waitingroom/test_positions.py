"""Position at constant cost (waitingroom.positions): ranks from checkpoints equal a full count, and the
checkpoints are read again when people leave the line ahead of others."""

from __future__ import annotations

import pytest

from tests.waitingroom.factories import join, make_room
from waitingroom import positions, selectors, services
from waitingroom.models import EntryStatus, WaitingRoomEntry

pytestmark = pytest.mark.django_db(transaction=True)


def waiting_line(event):
    return list(WaitingRoomEntry.objects.filter(event=event, status=EntryStatus.WAITING).order_by("number"))


def test_positions_from_checkpoints_match_a_full_count_and_follow_the_line(tenant, monkeypatch):
    monkeypatch.setattr(positions, "EVERY", 3)
    monkeypatch.setattr(positions, "TAIL", 2)
    event, _room = make_room(tenant=tenant, checkout_limit=1)
    for _ in range(16):
        join(tenant, event)
    line = waiting_line(event)
    assert len(line) >= 14
    assert [selectors.ahead_count(entry) for entry in line] == list(range(len(line)))
    marks = positions._checkpoints(event.id)
    assert len(marks.numbers) >= 3  # the lookups above went through checkpoints, not a full count

    # People leave from the front and the middle: every rank behind them moves (the version bumped on
    # commit makes the next lookup read new checkpoints instead of the stale ones).
    services.waiting_room_leave(tenant=tenant, entry=line[1])
    services.waiting_room_leave(tenant=tenant, entry=line[7])
    line = waiting_line(event)
    assert [selectors.ahead_count(entry) for entry in line] == list(range(len(line)))
    assert positions._checkpoints(event.id).version != marks.version
