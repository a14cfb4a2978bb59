"""Periodic ticketing work. Thin: ids in, services do the work; idempotent and safe to run concurrently
(each session is expired under its own row lock; a second run finds nothing)."""

from celery import shared_task

from ticketing import services


@shared_task(name="ticketing.tasks.expire_checkout_sessions", ignore_result=True, acks_late=True)
def expire_checkout_sessions() -> int:
    """Release the seats of checkout sessions whose hold has passed (reads already treat them as free)."""
    return services.checkout_expire_due()


@shared_task(name="ticketing.tasks.end_past_events", ignore_result=True, acks_late=True)
def end_past_events() -> int:
    """On sale / sold out events whose end time has passed become ended."""
    return services.event_end_past()
