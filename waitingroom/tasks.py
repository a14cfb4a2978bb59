"""Periodic waiting-room work. Thin and idempotent: the admission pass flushes "seen" heartbeats, expires
unseen entries and passed admissions (reads already treat them as expired), makes the pre-queue draw at
opening and admits the next people while checkout places are free. A second run finds nothing to do."""

from celery import shared_task

from waitingroom import services


@shared_task(name="waitingroom.tasks.admit", ignore_result=True, acks_late=True)
def admit() -> int:
    """One admission pass per enabled room with people in it. Returns how many were admitted."""
    return services.waiting_room_process_due()
