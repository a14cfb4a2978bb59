"""Periodic ticketing work. Thin: ids in, services do the work; idempotent and safe to run concurrently
(the expiry sweep claims due sessions ``SKIP LOCKED`` in batches and flips each from active exactly once;
a second run finds nothing)."""

from celery import shared_task

from ticketing import services


@shared_task(name="ticketing.tasks.expire_checkout_sessions", ignore_result=True, acks_late=True)
def expire_checkout_sessions() -> int:
    """Release the seats of checkout sessions whose hold has passed (reads already treat them as free):
    batches of ``services.SWEEP_BATCH`` for at most ``services.SWEEP_BUDGET_SECONDS`` per tick."""
    return services.checkout_expire_due()


@shared_task(name="ticketing.tasks.end_past_events", ignore_result=True, acks_late=True)
def end_past_events() -> int:
    """On sale / sold out events whose end time has passed become ended."""
    return services.event_end_past()
