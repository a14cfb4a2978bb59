"""Fixed-window rate limiting through the cache (Redis). A limiter, never a lock: if Redis is lost the
limiter fails open and logs, because refusing every status lookup would be worse than not limiting.

Limits key on the real client address (``client_address``): ``X-Forwarded-For`` is believed only when the
connection comes from a configured trusted proxy (``TRUSTED_PROXIES``), and then its right-most address
that is not itself a trusted proxy is the client. A made-up header from anyone else changes nothing, and
everyone behind a trusted proxy keeps a bucket of their own."""

from __future__ import annotations

import ipaddress
import logging
import time
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache

from core.errors import RateLimited

logger = logging.getLogger(__name__)


Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _trusted_networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:5123"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def is_trusted_proxy(address: Address | None) -> bool:
    if address is None:
        return False
    return any(address in network for network in _trusted_networks(tuple(settings.TRUSTED_PROXIES)))


def client_address(request) -> str:
    """The address the limits count against (see the module docstring)."""
    remote = _address(request.META.get("REMOTE_ADDR") or "")
    if remote is None:
        return request.META.get("REMOTE_ADDR") or "unknown"
    if not is_trusted_proxy(remote):
        return str(remote)
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # garbage that a trusted proxy passed on: believe nothing to its left
        if not is_trusted_proxy(address):
            return str(address)
    return str(remote)


def axes_client_address(request, *args) -> str | None:
    """django-axes' AXES_CLIENT_IP_CALLABLE: the same client address as every other limit, or None when
    there is none (``force_login`` in tests and scripts builds a request without one; axes stores NULL)."""
    address = client_address(request)
    return address if _address(address) is not None else None


def normalized_email(email: str | None) -> str:
    return (email or "").strip().lower()[:254]


def limit_submission(request, scope: str, *, email: str | None = None) -> None:
    """Count one public submission (a request, a help-desk ticket, a comment, a waitlist join) against the
    client's address and, when one is given, the email address; raise RateLimited when either is over its
    limit (RATE_LIMIT_SUBMISSIONS per address, RATE_LIMIT_SUBMISSIONS_PER_EMAIL per email)."""
    check_rate(f"{scope}:ip", client_address(request), settings.RATE_LIMIT_SUBMISSIONS)
    if normalized_email(email):
        check_rate(f"{scope}:email", normalized_email(email), settings.RATE_LIMIT_SUBMISSIONS_PER_EMAIL)


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
