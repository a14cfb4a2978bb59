"""Backup and restore (``make backup`` / ``make restore FILE=…``, scripts/backup.sh and restore.sh) with
the real PostgreSQL client tools: a dump of a database with orders, tickets, outbox rows and a waiting
room restores into a fresh database with the same rows in every table and the same sequence positions
(new rows after a restore do not collide with restored ids), and restoring over a database that changed
since the dump puts it back exactly as it was."""

from __future__ import annotations

import os
import subprocess
import uuid

import psycopg
import pytest
from django.db import connection

from tests.reliability.conftest import BASE_DIR, database_url
from tests.ticketing.factories import buy, make_event
from tests.waitingroom.factories import join, make_room

pytestmark = [pytest.mark.django_db(transaction=True)]


def run(script: str, *args: str, **env: str) -> str:
    result = subprocess.run(
        ["bash", str(BASE_DIR / "scripts" / script), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def fingerprint(url: str) -> dict[str, tuple]:
    """Per table: row count and an md5 of every row's text, in a stable order; per sequence: its
    position."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        result = {}
        rows = "md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
        for table in tables:
            result[table] = conn.execute(f'SELECT count(*), {rows} FROM "{table}" t').fetchone()
        sequences = conn.execute(
            "SELECT sequencename, last_value, last_value IS NOT NULL FROM pg_sequences"
            " WHERE schemaname = 'public'"
        )
        for name, last_value, called in sequences:
            result[f"sequence {name}"] = (last_value, called)
    return result


@pytest.fixture
def fresh_database():
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name, database_url(db={**connection.settings_dict, "NAME": name})
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_restores_into_a_fresh_database_with_the_same_rows(tenant, tmp_path, fresh_database):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 10), ("VIP", 9000, 2)))
    general, vip = event.tiers.order_by("position")
    buy(tenant=tenant, event=event, quantities={general.id: 3, vip.id: 1}, key="backup-1")
    room_event, _room = make_room(tenant=tenant, title="With a room")
    join(tenant, room_event)
    source = database_url()
    before = fingerprint(source)
    assert before["ticketing_order"][0] == 1 and before["ticketing_issuedticket"][0] == 4
    assert before["notifications_outboxmessage"][0] >= 1

    dump = tmp_path / "backup.dump"
    assert run("backup.sh", str(dump), DATABASE_URL=source).strip() == str(dump)
    assert dump.stat().st_size > 0 and not (tmp_path / "backup.dump.partial").exists()

    _name, target = fresh_database
    run("restore.sh", str(dump), DATABASE_URL=source, RESTORE_DATABASE_URL=target)
    after = fingerprint(target)
    assert after == before

    # The restored database takes new rows where the old one left off.
    with psycopg.connect(target, autocommit=True) as conn:
        last = conn.execute("SELECT max(id) FROM ticketing_order").fetchone()[0]
        sequence = conn.execute("SELECT pg_get_serial_sequence('ticketing_order', 'id')").fetchone()[0]
        assert conn.execute("SELECT nextval(%s)", [sequence]).fetchone()[0] > last


def test_restore_over_a_changed_database_puts_it_back(tenant, tmp_path):
    event = make_event(tenant=tenant, tiers=(("General", 2500, 10),))
    tier = event.tiers.get()
    buy(tenant=tenant, event=event, quantities={tier.id: 2}, key="restore-1")
    source = database_url()
    before = fingerprint(source)
    dump = tmp_path / "backup.dump"
    run("backup.sh", str(dump), DATABASE_URL=source)

    buy(tenant=tenant, event=event, quantities={tier.id: 3}, email="later@example.test", key="restore-2")
    assert fingerprint(source) != before
    connection.close()  # the restore replaces the tables under this connection
    run("restore.sh", str(dump), DATABASE_URL=source)
    assert fingerprint(source) == before


def test_restore_refuses_a_missing_file():
    result = subprocess.run(
        ["bash", str(BASE_DIR / "scripts" / "restore.sh"), "/nonexistent/backup.dump"],
        env={**os.environ, "DATABASE_URL": database_url()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "usage: make restore FILE=" in result.stderr
