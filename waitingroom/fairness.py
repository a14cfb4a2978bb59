"""Fair admission anyone can verify: commit and reveal for the pre-queue draw, and the admission log.

The rules themselves (commitment, PRNG, shuffle, record hash, what a valid log is) are in
``waitingroom.verify`` — standard library only, so the copy people run is the code the server runs.

Commit and reveal. ``room_commit`` picks a 32-byte seed (``secrets``) when the room is set up and
writes its commitment as line 0 of the log; pages show the commitment from then on, never the seed.
The draw (``waitingroom.services._draw``) uses the stored seed and refuses any other, and its log record
reveals it.

Admission log. Every change is recorded IN THE TRANSACTION OF THE CHANGE, so a record exists exactly
when the change committed. The chain (``seq``, ``prev``, ``hash``) is extended under the per-event
advisory lock ``waitingroom.log:<event_id>`` (``log_lock``), held to commit. Joins are the exception
that keeps joining free of a hot spot (DESIGN: "join: no single-row hot spot"): a join writes its record
in its own transaction WITHOUT a place in the chain (``seq`` NULL, "pending") and takes no lock; the next
chain writer seals pending joins in insertion order under the lock — the admission pass does so first
thing (every 5 s by beat, and at once after a join when a checkout place is free), as does every leave,
expiry and purchase before its own record, so an entry's join always precedes its other records.

Lock order (every writer): the admission advisory lock (pass only) → the log lock → entry rows → the
room row. Checkout's guard arrives holding its slot and session rows and then takes the log lock before
the entry row; nothing takes a slot or session after the log lock. The admission pass holds the log lock
for its whole transaction and only considers entries whose join is sealed, so a join committed
mid-pass cannot appear in the chain before an admission that did not see it. ``(event, seq)`` is
unique, so a writer that skipped the lock fails instead of forking the chain. Records carry no personal
data (entries appear by ``WaitingRoomEntry.public_id``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from django.db import connection
from django.db.models import Exists, OuterRef
from django.db.models.fields.json import KT
from django.utils.translation import gettext as _

from core.errors import Conflict
from core.locking import advisory_lock, lock_key
from waitingroom import verify
from waitingroom.models import AdmissionRecord, WaitingRoom

LOG_LOCK = "waitingroom.log"


def new_seed() -> str:
    return secrets.token_bytes(32).hex()


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def as_line(record: AdmissionRecord) -> dict:
    """The public form of a record (what the JSON-lines download holds and the verifier checks)."""
    line = {
        "seq": record.seq,
        "at": timestamp(record.at),
        "type": record.kind,
        "data": record.data,
        "prev": record.prev_hash,
    }
    line["hash"] = record.hash
    return line


def log_lock(event_id: int) -> None:
    """Take the event's log lock (transaction-scoped; taking it again in the same transaction is free)."""
    advisory_lock([lock_key(LOG_LOCK, event_id)])


def unsealed_join() -> Exists:
    """For entry querysets: the entry's join record is still pending (not in the chain yet)."""
    return Exists(
        AdmissionRecord.objects.filter(event_id=OuterRef("event_id"), seq__isnull=True)
        .annotate(entry_id=KT("data__entry"))
        .filter(entry_id=OuterRef("public_id"))
    )


def log_pending(*, tenant_id: int, event_id: int, kind: str, data: dict, now: datetime) -> None:
    """Record a change without a place in the chain yet (joins; no lock). Sealed by ``log_seal``."""
    AdmissionRecord.objects.create(
        tenant_id=tenant_id, event_id=event_id, seq=None, at=now, kind=kind, data=data, prev_hash="", hash=""
    )


def _chain_end(event_id: int) -> tuple[int, str]:
    last = (
        AdmissionRecord.objects.filter(event_id=event_id, seq__isnull=False)
        .order_by("-seq")
        .values("seq", "hash")
        .first()
    )
    return (last["seq"] + 1, last["hash"]) if last else (0, verify.GENESIS)


def log_seal(event_id: int) -> int:
    """Give every pending record of the event its place in the chain, in insertion order. Takes the log
    lock; returns how many were sealed."""
    log_lock(event_id)
    pending = list(AdmissionRecord.objects.filter(event_id=event_id, seq__isnull=True).order_by("pk"))
    if not pending:
        return 0
    seq, previous = _chain_end(event_id)
    ids, seqs, prevs, hashes = [], [], [], []
    for record in pending:
        record.seq, record.prev_hash = seq, previous
        record.hash = verify.record_hash(as_line(record))
        ids.append(record.pk)
        seqs.append(seq)
        prevs.append(previous)
        hashes.append(record.hash)
        seq, previous = seq + 1, record.hash
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {AdmissionRecord._meta.db_table} AS r SET seq = s.seq, prev_hash = s.prev, hash = s.hash
              FROM unnest(%s::bigint[], %s::int[], %s::text[], %s::text[]) AS s(id, seq, prev, hash)
             WHERE r.id = s.id AND r.seq IS NULL
            """,  # noqa: S608 - the table name comes from model metadata
            [ids, seqs, prevs, hashes],
        )
    return len(pending)


def log_append(
    *, tenant_id: int, event_id: int, records: Iterable[tuple[str, dict]], now: datetime, seal: bool = True
) -> None:
    """Append ``(type, data)`` records to the event's chain, in order, inside the transaction of the
    change. Takes the log lock (callers that also lock entry rows take ``log_lock`` BEFORE them). With
    ``seal`` (the default) pending joins are sealed first, so the entries named here have their join
    in the chain before these records."""
    records = list(records)
    if not connection.in_atomic_block:
        raise RuntimeError("log_append() belongs inside the transaction of the change it records")
    log_lock(event_id)
    if seal:
        log_seal(event_id)
    if not records:
        return
    seq, previous = _chain_end(event_id)
    rows = []
    for kind, data in records:
        row = AdmissionRecord(
            tenant_id=tenant_id, event_id=event_id, seq=seq, at=now, kind=kind, data=data, prev_hash=previous
        )
        row.hash = verify.record_hash(as_line(row))
        rows.append(row)
        seq, previous = seq + 1, row.hash
    AdmissionRecord.objects.bulk_create(rows)


def entry_records(kind: str, public_ids: Iterable[str]) -> list[tuple[str, dict]]:
    return [(kind, {"entry": public_id}) for public_id in public_ids]


def room_commit(room: WaitingRoom, now: datetime) -> None:
    """Choose the room's seed and publish its commitment (line 0 of the log). Idempotent: a room that
    has one keeps it. Call inside the transaction that creates the room, holding its row."""
    if room.draw_commitment:
        return
    log_lock(room.event_id)
    if AdmissionRecord.objects.filter(event_id=room.event_id).exists():
        raise Conflict(_("This event already has an admission log."))
    room.draw_seed = new_seed()
    room.draw_commitment = verify.commitment(room.event_id, room.draw_seed)
    room.committed_at = now
    WaitingRoom.objects.filter(pk=room.pk).update(
        draw_seed=room.draw_seed, draw_commitment=room.draw_commitment, committed_at=now
    )
    log_append(
        tenant_id=room.tenant_id,
        event_id=room.event_id,
        records=[
            ("room", {"event": room.event_id, "commitment": room.draw_commitment, "scheme": verify.SCHEME})
        ],
        now=now,
    )


def log_lines(event_id: int) -> Iterator[dict]:
    """The whole log in order, streamed from the database (constant memory)."""
    sealed = AdmissionRecord.objects.filter(event_id=event_id, seq__isnull=False).order_by("seq")
    for record in sealed.iterator(chunk_size=2000):
        yield as_line(record)


def log_head(event_id: int) -> AdmissionRecord | None:
    return AdmissionRecord.objects.filter(event_id=event_id, seq__isnull=False).order_by("-seq").first()
