"""Fixed-window rate limiting through the cache (Redis). A limiter, never a lock: if Redis is lost the
limiter fails open and logs, because refusing every status lookup would be worse than not limiting."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache

from core.errors import RateLimited

logger = logging.getLogger(__name__)


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def parse_rate(rate: str) -> tuple[int, int]:
    count, seconds = rate.split("/")
    return int(count), int(seconds)


def count_hit(scope: str, key: str, rate: str | None = None) -> tuple[int, int, int]:
    """Count one hit for ``(scope, key)``; return ``(hits in this window, limit, seconds until the window
    resets)``. Fails open (0 hits) when the cache is unavailable."""
    limit, window = parse_rate(rate or settings.RATE_LIMIT_LOOKUPS)
    now = time.time()
    bucket = int(now // window)
    reset = max(1, int((bucket + 1) * window - now))
    cache_key = f"rl:{scope}:{key}:{bucket}"
    try:
        cache.add(cache_key, 0, timeout=window + 1)
        hits = cache.incr(cache_key)
    except Exception:  # noqa: BLE001
        logger.warning("rate limiter unavailable; allowing %s", scope, exc_info=True)
        return 0, limit, reset
    return hits, limit, reset


def check_rate(scope: str, key: str, rate: str | None = None) -> None:
    """Count one hit for ``(scope, key)``; raise RateLimited when over ``rate`` ("count/seconds")."""
    hits, limit, _reset = count_hit(scope, key, rate)
    if hits > limit:
        raise RateLimited()
