"""ETA accuracy: what range each person was shown, whether they were served inside it, and the feedback
that recalibrates the ranges (``queues.eta``). Used by queues (a ticket is served when it starts being
served) and by the waiting room (an entry is served when admitted).

Recording. A range is noted every time a page shows it at a NEW position (joining, then every change of
position: status pages, their polls and live updates) with ``note_shown`` — one Redis round trip, no
database write on a GET (the same pattern as the waiting room's "seen" heartbeats). The refresh
(``eta_refresh_due``, beat every 30 s) moves the noted ranges into ``EtaForecast`` rows, scores the
pending ones whose person has been served (or drops those who left unserved), and feeds the scores in
service order to the scope's calibration state, kept on the queue / waiting-room row under that row's
lock (the same first lock the scope's services take; nothing else is locked after it but the forecast
rows). Redis being down loses some noted ranges, never correctness: the ranges shown are unaffected.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from queues import eta
from queues.models import EtaForecast, EtaOutcome, EtaScope

logger = logging.getLogger(__name__)

SCOPES_KEY = "vq:eta:scopes"
LAST_TTL_SECONDS = 2 * 24 * 3600
_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    return _client


def buffer_key(scope: str, scope_id: int) -> str:
    return f"vq:eta:shown:{scope}:{scope_id}"


def _note(
    scope: str, scope_id: int, tenant_id: int, item_id: int, forecast: eta.Forecast, when: float
) -> tuple:
    payload = json.dumps(
        {
            "t": tenant_id,
            "i": item_id,
            "at": when,
            "p": forecast.position,
            "c": forecast.centre_seconds,
            "s": forecast.scale_seconds,
            "lo": forecast.low_seconds,
            "hi": forecast.high_seconds,
            "k": forecast.calibrated,
        }
    )
    return f"vq:eta:last:{scope}:{scope_id}:{item_id}", payload


def note_shown(
    *, scope: str, scope_id: int, tenant_id: int, item_id: int, forecast: eta.Forecast | None
) -> None:
    """Note that ``forecast`` was shown to the item's person now, if its position is new for them."""
    if forecast is None:
        return
    last_key, payload = _note(scope, scope_id, tenant_id, item_id, forecast, datetime.now(UTC).timestamp())
    try:
        client = _redis()
        previous = client.set(last_key, forecast.position, ex=LAST_TTL_SECONDS, get=True)
        if previous is not None and int(previous) == forecast.position:
            return
        pipe = client.pipeline(transaction=False)
        pipe.rpush(buffer_key(scope, scope_id), payload)
        pipe.sadd(SCOPES_KEY, f"{scope}:{scope_id}")
        pipe.execute()
    except redis.RedisError:
        logger.warning("noting a shown ETA for %s:%s failed", scope, scope_id, exc_info=True)


async def anote_shown(
    *, scope: str, scope_id: int, tenant_id: int, item_id: int, forecast: eta.Forecast | None
) -> None:
    """``note_shown`` for websocket consumers (the loop's pooled async Redis client, no ORM)."""
    from core.live import async_redis

    if forecast is None:
        return
    last_key, payload = _note(scope, scope_id, tenant_id, item_id, forecast, datetime.now(UTC).timestamp())
    try:
        client = async_redis()
        previous = await client.set(last_key, forecast.position, ex=LAST_TTL_SECONDS, get=True)
        if previous is not None and int(previous) == forecast.position:
            return
        await client.rpush(buffer_key(scope, scope_id), payload)
        await client.sadd(SCOPES_KEY, f"{scope}:{scope_id}")
    except redis.RedisError:
        logger.warning("noting a shown ETA for %s:%s failed", scope, scope_id, exc_info=True)


def _take_buffer(scope: str, scope_id: int) -> list[dict]:
    try:
        pipe = _redis().pipeline(transaction=True)
        pipe.lrange(buffer_key(scope, scope_id), 0, -1)
        pipe.delete(buffer_key(scope, scope_id))
        raw, _deleted = pipe.execute()
    except redis.RedisError:
        logger.warning("reading shown ETAs for %s:%s failed", scope, scope_id, exc_info=True)
        return []
    return [json.loads(item) for item in raw]


def _served_times(scope: str, scope_id: int, item_ids: list[int]) -> dict[int, datetime | None]:
    """item id → when served; None = ended without being served; absent = still waiting."""
    if scope == EtaScope.QUEUE:
        from queues import workflow as wf
        from queues.models import Ticket

        rows = Ticket.objects.filter(queue_id=scope_id, pk__in=item_ids).values_list(
            "pk", "started_at", "phase"
        )
        return {
            pk: started
            for pk, started, phase in rows
            if started is not None or phase in (wf.DONE, wf.CANCELLED)
        }
    from waitingroom.models import EntryStatus, WaitingRoomEntry

    rows = WaitingRoomEntry.objects.filter(event_id=scope_id, pk__in=item_ids).values_list(
        "pk", "admitted_at", "status"
    )
    return {
        pk: admitted for pk, admitted, status in rows if admitted is not None or status != EntryStatus.WAITING
    }


def _lock_scope_row(scope: str, scope_id: int):
    if scope == EtaScope.QUEUE:
        from queues.models import Queue

        return Queue.objects.select_for_update().filter(pk=scope_id).first()
    from waitingroom.models import WaitingRoom

    return WaitingRoom.objects.select_for_update().filter(event_id=scope_id).first()


def eta_refresh(*, scope: str, scope_id: int) -> int:
    """Store noted ranges, score the served, recalibrate. Returns how many forecasts were scored.
    Locks the queue / waiting-room row, then the scope's pending forecasts. Idempotent."""
    noted = _take_buffer(scope, scope_id)
    with transaction.atomic(durable=True):
        row = _lock_scope_row(scope, scope_id)
        if row is None:
            return 0
        EtaForecast.objects.bulk_create(
            [
                EtaForecast(
                    tenant_id=item["t"],
                    scope=scope,
                    scope_id=scope_id,
                    item_id=item["i"],
                    shown_at=datetime.fromtimestamp(item["at"], tz=UTC),
                    position=item["p"],
                    centre_seconds=item["c"],
                    scale_seconds=item["s"],
                    low_seconds=max(0.0, item["lo"]),
                    high_seconds=max(item["lo"], item["hi"], 0.0),
                    calibrated=bool(item["k"]),
                )
                for item in noted
            ]
        )
        pending = list(
            EtaForecast.objects.select_for_update().filter(
                scope=scope, scope_id=scope_id, outcome=EtaOutcome.PENDING
            )
        )
        served = _served_times(scope, scope_id, sorted({forecast.item_id for forecast in pending}))
        done = [forecast for forecast in pending if forecast.item_id in served]
        state = row.eta_calibration or eta.new_state()
        scored = 0
        for forecast in sorted(done, key=lambda f: (served[f.item_id] or f.shown_at, f.shown_at, f.pk)):
            served_at = served[forecast.item_id]
            if served_at is None or served_at < forecast.shown_at:
                forecast.outcome = EtaOutcome.DROPPED
                continue
            hit = eta.resolve(
                state,
                centre=forecast.centre_seconds,
                scale=forecast.scale_seconds,
                low=forecast.low_seconds,
                high=forecast.high_seconds,
                calibrated=forecast.calibrated,
                actual_seconds=(served_at - forecast.shown_at).total_seconds(),
            )
            forecast.outcome = EtaOutcome.HIT if hit else EtaOutcome.MISS
            forecast.served_at = served_at
            scored += 1
        if done:
            EtaForecast.objects.bulk_update(done, ["outcome", "served_at", "updated_at"], batch_size=500)
            type(row).objects.filter(pk=row.pk).update(eta_calibration=state)
    return scored


def eta_refresh_due() -> int:
    """Beat: refresh every scope with noted ranges or pending forecasts. Returns forecasts scored."""
    scopes: set[tuple[str, int]] = set()
    try:
        for member in _redis().smembers(SCOPES_KEY):
            scope, _, scope_id = member.decode().partition(":")
            scopes.add((scope, int(scope_id)))
        _redis().delete(SCOPES_KEY)
    except redis.RedisError:
        logger.warning("reading ETA scopes failed", exc_info=True)
    scopes |= set(
        EtaForecast.objects.filter(outcome=EtaOutcome.PENDING).values_list("scope", "scope_id").distinct()
    )
    return sum(eta_refresh(scope=scope, scope_id=scope_id) for scope, scope_id in sorted(scopes))


# --- what staff see -------------------------------------------------------------------------------


@dataclass
class AccuracyDay:
    day: str
    shown: int
    hits: int

    @property
    def rate(self) -> float | None:
        """Percent served inside the range shown."""
        rate = eta.hit_rate(self.hits, self.shown)
        return None if rate is None else 100 * rate


@dataclass
class Accuracy:
    scored: int
    hits: int
    calibrated_scored: int
    calibrated_hits: int
    pending: int
    days: list[AccuracyDay]
    enough: bool
    needed: int

    @property
    def rate(self) -> float | None:
        """Percent of scored ranges that were right."""
        rate = eta.hit_rate(self.hits, self.scored)
        return None if rate is None else 100 * rate

    @property
    def calibrated_rate(self) -> float | None:
        rate = eta.hit_rate(self.calibrated_hits, self.calibrated_scored)
        return None if rate is None else 100 * rate


def accuracy_for(*, scope: str, scope_id: int, days: int = 14, now: datetime | None = None) -> Accuracy:
    """Hit rates for staff: overall, since calibration, and per day (the scope's zone is not needed:
    days are UTC dates, labelled as such). Two queries."""
    now = now or timezone.now()
    base = EtaForecast.objects.filter(scope=scope, scope_id=scope_id)
    totals = base.aggregate(
        scored=Count("pk", filter=Q(outcome__in=[EtaOutcome.HIT, EtaOutcome.MISS])),
        hits=Count("pk", filter=Q(outcome=EtaOutcome.HIT)),
        calibrated_scored=Count(
            "pk", filter=Q(calibrated=True, outcome__in=[EtaOutcome.HIT, EtaOutcome.MISS])
        ),
        calibrated_hits=Count("pk", filter=Q(calibrated=True, outcome=EtaOutcome.HIT)),
        pending=Count("pk", filter=Q(outcome=EtaOutcome.PENDING)),
    )
    rows = (
        base.filter(served_at__gte=now - timedelta(days=days), outcome__in=[EtaOutcome.HIT, EtaOutcome.MISS])
        .annotate(day=TruncDate("served_at", tzinfo=UTC))
        .values("day")
        .annotate(shown=Count("pk"), hits=Count("pk", filter=Q(outcome=EtaOutcome.HIT)))
        .order_by("day")
    )
    series = [AccuracyDay(day=row["day"].isoformat(), shown=row["shown"], hits=row["hits"]) for row in rows]
    return Accuracy(**totals, days=series, enough=totals["scored"] >= eta.MIN_SAMPLES, needed=eta.MIN_SAMPLES)


def accuracy_context(*, scope: str, scope_id: int, title: str) -> dict:
    """What ``queues/_eta_accuracy.html`` needs."""
    from queues.eta_chart import hit_rate_svg

    accuracy = accuracy_for(scope=scope, scope_id=scope_id)
    return {
        "accuracy": accuracy,
        "target": round(eta.TARGET * 100),
        "chart": hit_rate_svg(accuracy.days, title=title) if accuracy.enough else "",
    }
