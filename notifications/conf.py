"""Notification settings. Each is read from Django settings when set there (tests override them with
the ``settings`` fixture), otherwise from the environment variable of the same name (README
"Configuration"), otherwise the default below."""

from __future__ import annotations

from django.conf import settings

from config.env import env_bool, env_int, env_str

DEFAULTS = {
    # Attempts per message before it ends ``failed`` (the cap).
    "NOTIFICATIONS_MAX_ATTEMPTS": 6,
    # Retry delay after attempt n: min(base × 2^(n-1), max) seconds.
    "NOTIFICATIONS_BACKOFF_BASE_SECONDS": 30,
    "NOTIFICATIONS_BACKOFF_MAX_SECONDS": 3600,
    # How long a dispatcher owns a claimed message; must exceed the Celery hard time limit, so a live
    # worker never loses its claim, and an expired claim means the worker died.
    "NOTIFICATIONS_CLAIM_SECONDS": 300,
    "NOTIFICATIONS_WEBHOOK_TIMEOUT_SECONDS": 10,
    # Messages claimed per sweep.
    "NOTIFICATIONS_BATCH_SIZE": 20,
    # A dispatch run stops claiming after this long (kept well under CELERY_TASK_SOFT_TIME_LIMIT).
    "NOTIFICATIONS_SWEEP_SECONDS": 60,
    # An endpoint is disabled (and its owners told) after this many failed attempts in a row that span
    # at least this long without a single success: a receiver down for minutes or hours only waits.
    "NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_FAILURES": 20,
    "NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_SECONDS": 24 * 3600,
}


def get_int(name: str) -> int:
    value = getattr(settings, name, None)
    if value is not None:
        return int(value)
    return env_int(name, DEFAULTS[name])


def max_attempts() -> int:
    return get_int("NOTIFICATIONS_MAX_ATTEMPTS")


def backoff_seconds(attempt: int) -> int:
    """Delay before the attempt after ``attempt`` (1-based): exponential, capped."""
    base = get_int("NOTIFICATIONS_BACKOFF_BASE_SECONDS")
    cap = get_int("NOTIFICATIONS_BACKOFF_MAX_SECONDS")
    return min(base * 2 ** max(attempt - 1, 0), cap)


def claim_seconds() -> int:
    return get_int("NOTIFICATIONS_CLAIM_SECONDS")


def webhook_timeout_seconds() -> int:
    return get_int("NOTIFICATIONS_WEBHOOK_TIMEOUT_SECONDS")


def batch_size() -> int:
    return get_int("NOTIFICATIONS_BATCH_SIZE")


def sweep_seconds() -> int:
    return get_int("NOTIFICATIONS_SWEEP_SECONDS")


def webhook_disable_after_failures() -> int:
    return get_int("NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_FAILURES")


def webhook_disable_after_seconds() -> int:
    return get_int("NOTIFICATIONS_WEBHOOK_DISABLE_AFTER_SECONDS")


def webhook_allow_private() -> bool:
    """May webhooks go to loopback / private / link-local addresses? Only when
    ``NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE`` is on (the tests, for their local receiver; a developer's
    machine) and never once ``DJANGO_SECURE`` is on: production cannot be talked into aiming our workers
    at internal services, whatever the environment says."""
    if getattr(settings, "SECURE", False):
        return False
    value = getattr(settings, "NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE", None)
    if value is not None:
        return bool(value)
    return env_bool("NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE", False)


def task_queue() -> str | None:
    """The Celery queue dispatch tasks go to (None: the default queue). Tests isolate a worker with it."""
    value = getattr(settings, "NOTIFICATIONS_TASK_QUEUE", None)
    if value is not None:
        return value or None
    return env_str("NOTIFICATIONS_TASK_QUEUE") or None
