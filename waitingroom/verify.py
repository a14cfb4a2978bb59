"""Check a waiting room's admission log without the app: ``python -m waitingroom.verify LOG.jsonl``.

Standard library only, so anyone can copy this one file and run it (Python 3.9+). The app imports the
draw, the commitment and the record hash from here, so the rules below are the ones the server uses.

The log (one JSON object per line, downloaded from the event's "Fair admission" page)
-------------------------------------------------------------------------------------
Every line is ``{"seq": n, "at": "YYYY-MM-DDTHH:MM:SS.ffffffZ", "type": T, "data": {...}, "prev": P,
"hash": H}``:

- ``seq`` counts 0, 1, 2 … without gaps; ``prev`` is the previous line's ``hash`` (64 zeros on line 0);
- ``hash`` = SHA-256 (lowercase hex) of the UTF-8 bytes of the canonical JSON of the line WITHOUT its
  ``hash`` key: ``json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=True)``.
  Changing, removing, inserting or reordering any line breaks the chain. (Cutting lines off the END
  leaves a valid shorter chain: pass ``--head HASH`` with the head hash shown on the page.)

Record types (entry ids are pseudonymous: random, never the person's name, email or token):

- ``room``     ``{"event": id, "commitment": C, "scheme": "virtualq-draw-v1"}`` — always line 0; written
               when the waiting room is set up, before anyone can join.
- ``join``     ``{"entry": E, "number": n, "prequeue": bool}`` — ``number`` is the join number
               (a database sequence: increasing, gaps allowed); ``prequeue`` = joined before opening.
- ``draw``     ``{"seed": S, "input": [E…], "order": [E…]}`` — at opening, once.
- ``admit``    ``{"entry": E, "limit": L}`` — let in to checkout; ``L`` = the event's checkout limit then.
- ``complete`` ``{"entry": E}`` (bought) · ``expire`` ``{"entry": E}`` (not seen in time, or the
               admission window passed) · ``leave`` ``{"entry": E}`` (left on purpose).

Commit and reveal
-----------------
The seed ``S`` is 32 random bytes written as 64 lowercase hex digits, chosen when the room is set up.
Only the commitment is published until the draw::

    C = SHA-256( ASCII "virtualq-draw-v1:" + decimal event id + ":" + S )      (hex)

e.g. ``printf 'virtualq-draw-v1:%s:%s' 42 "$SEED" | sha256sum``. The draw record reveals ``S``.

The draw (recompute it from the seed)
-------------------------------------
``input`` = the entries that joined before opening (``prequeue``) and were still waiting at the draw,
in ascending join ``number``. The PRNG is a SHA-256 counter-mode stream: block ``i`` (i = 0, 1, 2 …) is
``SHA-256(seed_bytes || i as 8-byte big-endian)`` where ``seed_bytes`` are the 32 bytes of ``S``; the
stream is block 0 ‖ block 1 ‖ …, read as consecutive 8-byte big-endian unsigned integers ``u``.
``below(n)``: take the next ``u``; if ``u ≥ 2^64 − (2^64 mod n)`` discard it and take the next (no
modulo bias); else return ``u mod n``. The shuffle is Fisher–Yates (Durstenfeld): for ``i`` from
``k − 1`` down to 1: ``j = below(i + 1)``, swap ``a[i]`` and ``a[j]``; ``order`` is the result. Drawn
entries take places −k … −1 in that order: before everyone who joined after opening.

Admissions
----------
The line is every waiting entry ordered by its place: the drawn place for drawn entries, else the join
number. Each ``admit`` must let in the first entry of the line as it stands at that record (only joins
already in the log count), and after it the open admissions (admitted, not yet complete / expired /
left) must not exceed ``limit``. Every entry moves join → (admit) → one end, never back.

Exit status 0 and a summary when everything checks; 1 and the first problem otherwise; 2 on bad usage.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

SCHEME = "virtualq-draw-v1"
GENESIS = "0" * 64
_TWO_64 = 1 << 64


class VerificationError(Exception):
    """The log does not check; the message says where and why."""


# --- the rules the server uses too ----------------------------------------------------------------


def commitment(event_id: int, seed_hex: str) -> str:
    return hashlib.sha256(f"{SCHEME}:{int(event_id)}:{seed_hex}".encode("ascii")).hexdigest()


def _stream(seed: bytes):
    counter = 0
    while True:
        block = hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
        for offset in range(0, 32, 8):
            yield int.from_bytes(block[offset : offset + 8], "big")
        counter += 1


def draw_order(entries: list, seed_hex: str) -> list:
    """``entries`` in input order → the drawn order (Fisher–Yates over the SHA-256 counter stream)."""
    seed = bytes.fromhex(seed_hex)
    if len(seed) != 32:
        raise ValueError("the seed is 32 bytes (64 hex digits)")
    words = _stream(seed)

    def below(n: int) -> int:
        limit = _TWO_64 - (_TWO_64 % n)
        while True:
            value = next(words)
            if value < limit:
                return value % n

    order = list(entries)
    for i in range(len(order) - 1, 0, -1):
        j = below(i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def canonical(record: dict) -> bytes:
    body = {key: value for key, value in record.items() if key != "hash"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("utf-8")


def record_hash(record: dict) -> str:
    return hashlib.sha256(canonical(record)).hexdigest()


# --- the checks -----------------------------------------------------------------------------------

ENDS = {"complete": ("admitted",), "expire": ("waiting", "admitted"), "leave": ("waiting", "admitted")}


def _entry(line: int, data: dict) -> str:
    entry = data.get("entry")
    if not isinstance(entry, str) or not entry:
        raise VerificationError(f"line {line}: the record names no entry")
    return entry


def verify_records(records: list[dict], *, head: str | None = None) -> dict:
    """Check parsed log lines; return a summary dict. Raises VerificationError on the first problem."""
    if not records:
        raise VerificationError("the log is empty")
    previous = GENESIS
    event_id = None
    committed = None
    drawn = False
    status: dict[str, str] = {}
    place: dict[str, int] = {}
    prequeue: dict[str, bool] = {}
    counts = {"join": 0, "admit": 0, "complete": 0, "expire": 0, "leave": 0}
    for index, record in enumerate(records):
        line = index + 1
        if not isinstance(record, dict):
            raise VerificationError(f"line {line}: not a JSON object")
        if record.get("seq") != index:
            raise VerificationError(f"line {line}: seq is {record.get('seq')!r}, expected {index}")
        if record.get("prev") != previous:
            raise VerificationError(f"line {line}: prev does not match the hash of the line before")
        if record.get("hash") != record_hash(record):
            raise VerificationError(f"line {line}: the hash does not match the record (it was changed)")
        previous = record["hash"]
        kind, data = record.get("type"), record.get("data")
        if not isinstance(data, dict):
            raise VerificationError(f"line {line}: data is not an object")
        if index == 0:
            if kind != "room" or data.get("scheme") != SCHEME:
                raise VerificationError(f"line 1: the log must start with the room's commitment ({SCHEME})")
            event_id, committed = data.get("event"), data.get("commitment")
            continue
        if kind == "room":
            raise VerificationError(f"line {line}: a second commitment")
        if kind == "join":
            entry = _entry(line, data)
            if entry in status:
                raise VerificationError(f"line {line}: entry {entry} joined twice")
            number = data.get("number")
            if not isinstance(number, int) or isinstance(number, bool):
                raise VerificationError(f"line {line}: the join number is not an integer")
            status[entry], place[entry], prequeue[entry] = "waiting", number, bool(data.get("prequeue"))
        elif kind == "draw":
            if drawn:
                raise VerificationError(f"line {line}: a second draw")
            drawn = True
            seed = data.get("seed")
            if not isinstance(seed, str) or commitment(event_id, seed) != committed:
                raise VerificationError(f"line {line}: the revealed seed does not match the commitment")
            expected_input = sorted(
                (e for e, s in status.items() if s == "waiting" and prequeue[e] and place[e] > 0),
                key=lambda e: place[e],
            )
            if data.get("input") != expected_input:
                raise VerificationError(
                    f"line {line}: the draw's input is not the pre-queue entries still waiting, in join order"
                )
            recomputed = draw_order(expected_input, seed)
            if data.get("order") != recomputed:
                raise VerificationError(f"line {line}: the drawn order does not follow from the seed")
            for offset, entry in enumerate(recomputed):
                place[entry] = offset - len(recomputed)
        elif kind == "admit":
            entry = _entry(line, data)
            if status.get(entry) != "waiting":
                raise VerificationError(f"line {line}: entry {entry} was admitted but was not waiting")
            first = min((e for e, s in status.items() if s == "waiting"), key=lambda e: place[e])
            if first != entry:
                raise VerificationError(
                    f"line {line}: entry {entry} was admitted before {first}, who was ahead in line"
                )
            if prequeue[entry] and not drawn:
                raise VerificationError(
                    f"line {line}: entry {entry} joined before opening, admitted before the draw"
                )
            status[entry] = "admitted"
            limit = data.get("limit")
            open_admissions = sum(1 for s in status.values() if s == "admitted")
            if not isinstance(limit, int) or open_admissions > limit:
                raise VerificationError(
                    f"line {line}: {open_admissions} admissions open, above the checkout limit {limit}"
                )
        elif kind in ENDS:
            entry = _entry(line, data)
            if status.get(entry) not in ENDS[kind]:
                raise VerificationError(
                    f"line {line}: entry {entry} cannot {kind} from {status.get(entry, 'nowhere')}"
                )
            status[entry] = kind
        else:
            raise VerificationError(f"line {line}: unknown record type {kind!r}")
        if kind in counts:
            counts[kind] += 1
    if head is not None and previous != head.strip().lower():
        raise VerificationError("the last line's hash is not the published head (lines are missing)")
    return {
        "records": len(records),
        "event": event_id,
        "head": previous,
        "drawn": drawn,
        "waiting": sum(1 for s in status.values() if s == "waiting"),
        **counts,
    }


def parse_lines(lines) -> list[dict]:
    records = []
    for number, text in enumerate(lines, start=1):
        text = text.strip()
        if not text:
            continue
        try:
            records.append(json.loads(text))
        except json.JSONDecodeError as error:
            raise VerificationError(f"line {number}: not JSON ({error.msg})") from error
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m waitingroom.verify", description="Check a VirtualQ waiting room's admission log."
    )
    parser.add_argument("log", help="the downloaded log (JSON lines); - reads standard input")
    parser.add_argument("--head", help="the head hash published on the event's fairness page")
    args = parser.parse_args(argv)
    try:
        if args.log == "-":
            records = parse_lines(sys.stdin)
        else:
            with open(args.log, encoding="utf-8") as handle:
                records = parse_lines(handle)
        summary = verify_records(records, head=args.head)
    except OSError as error:
        print(f"cannot read {args.log}: {error}", file=sys.stderr)
        return 2
    except VerificationError as error:
        print(f"FAILED: {error}")
        return 1
    print(
        f"OK: {summary['records']} records, chain intact (head {summary['head']}); "
        f"draw {'recomputed from the revealed seed and matches' if summary['drawn'] else 'not made yet'}; "
        f"{summary['admit']} admissions in line order within the checkout limit; "
        f"{summary['join']} joined, {summary['complete']} bought, {summary['expire']} expired, "
        f"{summary['leave']} left, {summary['waiting']} still waiting."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
