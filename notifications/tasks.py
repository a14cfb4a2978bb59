"""Celery tasks for the outbox: thin wrappers (ids in, dispatcher call). Both are idempotent and safe to
run concurrently: claiming uses ``FOR UPDATE SKIP LOCKED`` plus a lease (see notifications.dispatch)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="notifications.tasks.deliver_messages", ignore_result=True)
def deliver_messages(message_ids: list[int]) -> int:
    """Deliver these messages now if they are pending, due and unclaimed. Returns how many were tried."""
    from notifications.dispatch import dispatch_messages

    return dispatch_messages(message_ids=message_ids)


@shared_task(name="notifications.tasks.dispatch_due", ignore_result=True)
def dispatch_due() -> int:
    """The beat sweep: deliver every pending message whose time has come (retries after backoff,
    messages whose enqueue failed, and claims left behind by a dead worker)."""
    from notifications.dispatch import dispatch_messages

    return dispatch_messages(message_ids=None)
