"""Fair admission: commit and reveal, the draw recomputed from the revealed seed (independently of the
server's code), the admission log's hash chain written with each change, the public page and download,
and the stand-alone verifier catching changed, removed, reordered and forged records."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from core.errors import Conflict
from tests.waitingroom.factories import join, make_room
from ticketing import services as ticketing
from waitingroom import fairness, services, verify
from waitingroom.models import AdmissionRecord, EntryStatus, WaitingRoom, WaitingRoomEntry

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def independent_draw(items: list, seed_hex: str) -> list:
    """The draw as the README specifies it, written again from the text (not from verify.py)."""
    seed = bytes.fromhex(seed_hex)
    buffer = b""
    counter = 0

    def next_u64() -> int:
        nonlocal buffer, counter
        if len(buffer) < 8:
            buffer += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
            counter += 1
        value, buffer = int.from_bytes(buffer[:8], "big"), buffer[8:]
        return value

    result = list(items)
    for i in range(len(result) - 1, 0, -1):
        n = i + 1
        while True:
            u = next_u64()
            if u < 2**64 - (2**64 % n):
                break
        j = u % n
        result[i], result[j] = result[j], result[i]
    return result


def log_of(event) -> list[dict]:
    return list(fairness.log_lines(event.id))


def download(client, tenant, event) -> list[dict]:
    url = reverse(
        "waitingroom_public:fairness_log", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug}
    )
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-ndjson")
    body = b"".join(response.streaming_content).decode()
    return [json.loads(line) for line in body.splitlines()]


def buy(tenant, event, entry):
    entry = WaitingRoomEntry.objects.get(pk=entry.pk)
    session = ticketing.checkout_open(
        tenant=tenant,
        event=event,
        quantities={event.tiers.get().id: 1},
        admission=services.admission_token(entry),
    )
    session = ticketing.checkout_set_customer(
        tenant=tenant, session=session, name="A", email="a@example.test"
    )
    ticketing.checkout_complete(
        tenant=tenant,
        session=session,
        provider="test_card",
        payment_details={"card_number": "4242424242424242"},
    )


@pytest.fixture
def drawn_sale(tenant):
    """A room with 12 early arrivals, a draw at opening, admissions, a purchase, a leave and an expiry."""
    now = timezone.now()
    opens = now + timedelta(minutes=10)
    event, room = make_room(tenant=tenant, checkout_limit=2, opens_at=opens, prequeue_shuffle=True)
    early = [join(tenant, event, now=now + timedelta(seconds=i)) for i in range(12)]
    services.waiting_room_leave(tenant=tenant, entry=early[5], now=now + timedelta(minutes=1))
    late = join(tenant, event, now=opens + timedelta(seconds=1))
    admitted = services.waiting_room_admit(event_id=event.id, now=opens + timedelta(seconds=2))
    assert len(admitted) == 2
    buy(tenant, event, WaitingRoomEntry.objects.get(pk=admitted[0]))
    assert len(services.waiting_room_admit(event_id=event.id, now=opens + timedelta(seconds=3))) == 1
    return {"event": event, "room": WaitingRoom.objects.get(pk=room.pk), "early": early, "late": late}


def test_commitment_is_published_at_setup_before_anyone_joins_and_the_seed_stays_secret(client, tenant):
    opens = timezone.now() + timedelta(hours=1)
    event, room = make_room(tenant=tenant, opens_at=opens, prequeue_shuffle=True)
    first = AdmissionRecord.objects.get(event=event, seq=0)
    assert first.kind == "room" and first.data["commitment"] == room.draw_commitment
    assert len(room.draw_seed) == 64 and room.revealed_seed == ""
    assert verify.commitment(event.id, room.draw_seed) == room.draw_commitment
    join(tenant, event)
    assert [line["type"] for line in log_of(event)] == ["room"]  # the join is pending …
    services.waiting_room_admit(event_id=event.id)  # … until the next chain writer seals it
    assert [line["type"] for line in log_of(event)] == ["room", "join"]
    for name, kwargs in (
        ("ticketing_public:event", {"event_slug": event.slug}),
        ("waitingroom_public:room", {"event_slug": event.slug}),
        ("waitingroom_public:fairness", {"event_slug": event.slug}),
    ):
        page = client.get(reverse(name, kwargs={"tenant_slug": tenant.slug, **kwargs})).content.decode()
        assert room.draw_commitment in page, name
        assert room.draw_seed not in page, name  # never before the draw
    # Configuring the room again keeps the commitment (a new seed would be a second, later commitment).
    services.waiting_room_configure(tenant=tenant, actor=None, event=event, admission_minutes=5)
    assert WaitingRoom.objects.get(pk=room.pk).draw_commitment == room.draw_commitment
    assert AdmissionRecord.objects.filter(event=event, kind="room").count() == 1


def test_the_draw_uses_the_committed_seed_and_recomputes_independently(client, tenant, drawn_sale):
    event, room, early = drawn_sale["event"], drawn_sale["room"], drawn_sale["early"]
    records = download(client, tenant, event)
    draw = next(line for line in records if line["type"] == "draw")
    assert draw["data"]["seed"] == room.draw_seed
    assert verify.commitment(event.id, draw["data"]["seed"]) == records[0]["data"]["commitment"]
    # The input is every early arrival still waiting, in join order; the one who left is not in it.
    expected_input = [entry.public_id for entry in early if entry.pk != early[5].pk]
    assert draw["data"]["input"] == expected_input
    assert draw["data"]["order"] == independent_draw(expected_input, room.draw_seed)
    assert draw["data"]["order"] != expected_input
    # The database order is the drawn order: the late arrival comes after every drawn person.
    line_order = list(
        WaitingRoomEntry.objects.filter(event=event, prequeue=True, number__lt=0)
        .order_by("number")
        .values_list("public_id", flat=True)
    )
    assert line_order == draw["data"]["order"]
    admits = [line["data"]["entry"] for line in records if line["type"] == "admit"]
    assert admits == draw["data"]["order"][: len(admits)]
    # Seed revealed on the pages after the draw.
    page = client.get(
        reverse("waitingroom_public:fairness", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug})
    ).content.decode()
    assert room.draw_seed in page


def test_the_service_refuses_any_seed_but_the_committed_one(tenant):
    opens = timezone.now() + timedelta(minutes=5)
    event, room = make_room(tenant=tenant, opens_at=opens, prequeue_shuffle=True)
    for i in range(3):
        join(tenant, event, now=timezone.now() + timedelta(seconds=i))
    before = list(
        WaitingRoomEntry.objects.filter(event=event).order_by("pk").values_list("number", flat=True)
    )
    with pytest.raises(Conflict):
        services.waiting_room_admit(event_id=event.id, now=opens + timedelta(seconds=1), seed="ab" * 32)
    assert WaitingRoom.objects.get(pk=room.pk).shuffled_at is None
    assert (
        list(WaitingRoomEntry.objects.filter(event=event).order_by("pk").values_list("number", flat=True))
        == before
    )
    assert not AdmissionRecord.objects.filter(event=event, kind__in=["draw", "admit"]).exists()
    # A stored seed that no longer matches the commitment is refused too (nothing may swap it).
    WaitingRoom.objects.filter(pk=room.pk).update(draw_seed="cd" * 32)
    with pytest.raises(Conflict):
        services.waiting_room_admit(event_id=event.id, now=opens + timedelta(seconds=1))
    WaitingRoom.objects.filter(pk=room.pk).update(draw_seed=room.draw_seed)
    # The committed seed itself (or none) draws.
    services.waiting_room_admit(event_id=event.id, now=opens + timedelta(seconds=1), seed=room.draw_seed)
    assert WaitingRoom.objects.get(pk=room.pk).shuffled_at is not None


def test_the_log_verifies_and_records_every_change(client, tenant, drawn_sale):
    event = drawn_sale["event"]
    entry = drawn_sale["late"]
    services.waiting_room_leave(tenant=tenant, entry=entry)
    records = download(client, tenant, event)
    summary = verify.verify_records(records, head=records[-1]["hash"])
    assert summary["drawn"] and summary["join"] == 13 and summary["leave"] == 2
    assert summary["complete"] == 1 and summary["admit"] == 3
    kinds = [line["type"] for line in records]
    assert kinds[0] == "room" and kinds.count("draw") == 1
    assert kinds.index("draw") < kinds.index("admit")
    # No personal data: no email, name or token anywhere in the log.
    text = json.dumps(records)
    for person in WaitingRoomEntry.objects.filter(event=event).select_related("customer"):
        assert person.token not in text and person.customer.email not in text


def test_unseen_and_passed_admissions_are_logged_as_expiries_and_still_verify(client, tenant):
    event, _room = make_room(tenant=tenant, checkout_limit=1)
    now = timezone.now()
    first, second, third = (join(tenant, event, now=now) for _ in range(3))
    services.waiting_room_admit(event_id=event.id, now=now)
    # The first's window passes; the second was not seen for an hour: the third is let in.
    later = now + timedelta(minutes=45)
    WaitingRoomEntry.objects.filter(pk=third.pk).update(last_seen_at=later)
    assert services.waiting_room_admit(event_id=event.id, now=later) == [third.pk]
    records = download(client, tenant, event)
    verify.verify_records(records)
    expired = {line["data"]["entry"] for line in records if line["type"] == "expire"}
    assert expired == {first.public_id, second.public_id}


def run_verifier(path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "waitingroom.verify", str(path), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in records))
    return path


def test_the_command_line_verifier_passes_the_real_log_and_fails_every_tampering(
    client, tenant, drawn_sale, tmp_path
):
    records = download(client, tenant, drawn_sale["event"])
    head = records[-1]["hash"]
    good = run_verifier(write(tmp_path / "good.jsonl", records), "--head", head)
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.startswith("OK:") and "matches" in good.stdout

    changed = [dict(line) for line in records]
    admit_at = next(i for i, line in enumerate(changed) if line["type"] == "admit")
    changed[admit_at] = {**changed[admit_at], "data": {**changed[admit_at]["data"], "limit": 99}}
    removed = records[:3] + records[4:]
    reordered = list(records)
    reordered[2], reordered[3] = reordered[3], reordered[2]
    truncated = records[:-1]
    for name, tampered, extra in (
        ("changed", changed, ()),
        ("removed", removed, ()),
        ("reordered", reordered, ()),
        ("truncated", truncated, ("--head", head)),
    ):
        result = run_verifier(write(tmp_path / f"{name}.jsonl", tampered), *extra)
        assert result.returncode == 1, name
        assert result.stdout.startswith("FAILED"), name


def rechain(records: list[dict]) -> list[dict]:
    """Re-hash a forged log so the chain itself is intact: only the rules can catch it."""
    previous = verify.GENESIS
    out = []
    for seq, line in enumerate(records):
        line = {**line, "seq": seq, "prev": previous}
        line["hash"] = verify.record_hash(line)
        previous = line["hash"]
        out.append(line)
    return out


def test_a_consistently_rehashed_forgery_still_fails_the_rules(client, tenant, drawn_sale):
    records = download(client, tenant, drawn_sale["event"])
    verify.verify_records(rechain(records))  # re-hashing the genuine log changes nothing
    draw_at = next(i for i, line in enumerate(records) if line["type"] == "draw")
    draw = records[draw_at]
    # A different order than the seed gives.
    order = list(reversed(draw["data"]["order"]))
    forged = list(records)
    forged[draw_at] = {**draw, "data": {**draw["data"], "order": order}}
    with pytest.raises(verify.VerificationError, match="does not follow from the seed"):
        verify.verify_records(rechain(forged))
    # Another seed than the committed one.
    other = "11" * 32
    forged[draw_at] = {
        **draw,
        "data": {**draw["data"], "seed": other, "order": verify.draw_order(draw["data"]["input"], other)},
    }
    with pytest.raises(verify.VerificationError, match="does not match the commitment"):
        verify.verify_records(rechain(forged))
    # Someone let in ahead of their turn: swap the first admission for the last drawn person.
    admit_at = next(i for i, line in enumerate(records) if line["type"] == "admit")
    forged = list(records)
    skipper = draw["data"]["order"][-1]
    forged[admit_at] = {**forged[admit_at], "data": {**forged[admit_at]["data"], "entry": skipper}}
    with pytest.raises(verify.VerificationError, match="ahead in line"):
        verify.verify_records(rechain(forged))
    # More people at checkout than the limit.
    forged = list(records)
    forged[admit_at] = {**forged[admit_at], "data": {**forged[admit_at]["data"], "limit": 0}}
    with pytest.raises(verify.VerificationError, match="above the checkout limit"):
        verify.verify_records(rechain(forged))


def test_the_person_sees_their_entry_id_and_can_check_their_place(client, tenant, drawn_sale):
    event, room = drawn_sale["event"], drawn_sale["room"]
    entry = WaitingRoomEntry.objects.filter(event=event, status=EntryStatus.WAITING, prequeue=True).first()
    page = client.get(
        reverse("waitingroom_public:entry", kwargs={"tenant_slug": tenant.slug, "token": entry.token})
    ).content.decode()
    assert entry.public_id in page and "check your place" in page
    url = reverse(
        "waitingroom_public:fairness", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug}
    )
    check = client.get(url, {"entry": entry.public_id.replace("-", "").lower()}).content.decode()
    draw = AdmissionRecord.objects.get(event=event, kind="draw").data
    assert f"Drawn place {draw['order'].index(entry.public_id) + 1} of {len(draw['order'])}" in check
    assert "Position in line now" in check
    bad = client.get(url, {"entry": "not an id"})
    assert bad.status_code == 200 and "An entry id has 12" in bad.content.decode()
    unknown = client.get(url, {"entry": "K7Q-4MZ-9XP-2HD"}).content.decode()
    assert "No entry K7Q-4MZ-9XP-2HD" in unknown
    assert room.draw_seed in check


def test_another_tenant_never_sees_the_log(client, tenant, other_tenant, drawn_sale):
    event = drawn_sale["event"]
    for name in ("waitingroom_public:fairness", "waitingroom_public:fairness_log"):
        url = reverse(name, kwargs={"tenant_slug": other_tenant.slug, "event_slug": event.slug})
        assert client.get(url).status_code == 404


def test_a_draft_event_has_no_public_log(client, tenant):
    from tests.ticketing.factories import make_event

    event = make_event(tenant=tenant, on_sale=False)
    services.waiting_room_configure(tenant=tenant, actor=None, event=event)
    url = reverse(
        "waitingroom_public:fairness", kwargs={"tenant_slug": tenant.slug, "event_slug": event.slug}
    )
    assert client.get(url).status_code == 404
