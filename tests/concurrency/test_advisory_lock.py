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


def test_the_callers_lock_timeout_is_put_back():
    """A service bounds its row locks (``SET LOCAL lock_timeout``) and then takes advisory locks: its
    bound still holds afterwards (it used to be reset to 0, an unbounded wait)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '1500ms'")
        advisory_lock([lock_key("tier", 44)], timeout_ms=200)
        cursor.execute("SELECT current_setting('lock_timeout')")
        assert cursor.fetchone()[0] == "1500ms"


def test_a_row_lock_after_an_advisory_lock_stays_bounded(tenant):
    """The bound set before the advisory lock cuts a later row-lock wait short (real second connection)."""
    from tenants.models import Tenant

    holding, release = threading.Event(), threading.Event()

    def holder():
        try:
            with transaction.atomic():
                Tenant.objects.select_for_update().get(pk=tenant.pk)
                holding.set()
                release.wait(20)
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert holding.wait(10)
        with pytest.raises(Exception) as raised, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '300ms'")
            advisory_lock([lock_key("tier", 45)])
            Tenant.objects.select_for_update().get(pk=tenant.pk)
        assert getattr(raised.value.__cause__, "sqlstate", None) == "55P03"
    finally:
        release.set()
        thread.join(20)
