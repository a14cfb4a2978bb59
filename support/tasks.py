"""Periodic work for the help desk. Thin: the service does the work; idempotent and safe to run twice or
concurrently (one breach escalates once)."""

from celery import shared_task

from support import services


@shared_task(name="support.tasks.escalate_overdue", ignore_result=True, acks_late=True)
def escalate_overdue() -> int:
    """Escalate support tickets whose escalation deadline (business-hours aware) has passed."""
    return services.support_escalate_due()
