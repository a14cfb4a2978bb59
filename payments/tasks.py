"""Periodic payments work. Thin and idempotent: every step it retries carries its own idempotency key at
the provider, and rows are locked (``NOWAIT``) while a step runs, so two runs never act twice."""

from celery import shared_task

from payments.settle import settle_due
from payments.tips import tips_void_orphans
from ticketing.payments.receipts import receipts_issue_missing


@shared_task(name="payments.tasks.settle", ignore_result=True, acks_late=True)
def settle() -> dict:
    """Retry owed provider steps (tip captures/voids, refunds of late or duplicate payments, refunds
    Stripe has not confirmed), void tip authorisations never attached to a request, and number the
    receipts of paid orders that have none yet."""
    return {
        "settled": settle_due(),
        "orphans_voided": tips_void_orphans(),
        "receipts": receipts_issue_missing(),
    }
