"""Periodic work for queues. Thin: ids and times in, services do the work; idempotent."""

from celery import shared_task

from queues import services


@shared_task(name="queues.tasks.expire_tickets", ignore_result=True, acks_late=True)
def expire_tickets() -> int:
    """Expire tickets that waited past their time-to-live (status pages already show them as expired)."""
    return services.tickets_expire_due()


@shared_task(name="queues.tasks.refresh_eta", ignore_result=True, acks_late=True)
def refresh_eta() -> int:
    """Score the ETA ranges people were shown (queues and waiting rooms) and recalibrate them."""
    from queues.accuracy import eta_refresh_due

    return eta_refresh_due()
