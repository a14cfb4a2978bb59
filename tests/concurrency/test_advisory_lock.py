"""The advisory-lock helper with two real connections: the second waiter gets Busy, not a hang."""

import threading

import pytest
from django.db import connection, transaction

from core.errors import Busy
from core.locking import advisory_lock, lock_key

pytestmark = pytest.mark.django_db(transaction=True)


def test_second_holder_times_out_as_busy():
    key = lock_key("tier", 42)
    holding = threading.Event()
    release = threading.Event()
    outcome = {}

    def holder():
        try:
            with transaction.atomic():
                advisory_lock([key])
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    def contender():
        try:
            with transaction.atomic():
                advisory_lock([key], timeout_ms=200)
                outcome["result"] = "locked"
        except Busy:
            outcome["result"] = "busy"
        finally:
            connection.close()

    first = threading.Thread(target=holder)
    first.start()
    assert holding.wait(10)
    second = threading.Thread(target=contender)
    second.start()
    second.join(10)
    release.set()
    first.join(10)
    assert outcome["result"] == "busy"


def test_lock_is_released_at_commit():
    key = lock_key("tier", 43)
    with transaction.atomic():
        advisory_lock([key])
    results = []

    def again():
        try:
            with transaction.atomic():
                advisory_lock([key], timeout_ms=200)
                results.append("locked")
        finally:
            connection.close()

    thread = threading.Thread(target=again)
    thread.start()
    thread.join(10)
    assert results == ["locked"]


def test_outside_a_transaction_is_a_programming_error():
    with pytest.raises(RuntimeError):
        advisory_lock([lock_key("x", 1)])
