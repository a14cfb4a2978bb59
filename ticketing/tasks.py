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


@shared_task(name="ticketing.tasks.expire_unpaid_orders", ignore_result=True, acks_late=True)
def expire_unpaid_orders() -> int:
    """Cancel pay-at-the-door orders past their hold and release their seats (reads already treat them as
    expired; the next checkout of the event does it too). Buyers and the promoter are told."""
    from ticketing.lifecycle import orders_expire_unpaid

    return orders_expire_unpaid()


@shared_task(name="ticketing.tasks.settle_cancelled_events", ignore_result=True, acks_late=True)
def settle_cancelled_events() -> int:
    """Finish closing the orders and checkouts of cancelled events (what ``event_cancel`` left busy)."""
    from ticketing.lifecycle import events_settle_cancelled_due

    return events_settle_cancelled_due()


@shared_task(name="ticketing.tasks.end_past_events", ignore_result=True, acks_late=True)
def end_past_events() -> int:
    """On sale / sold out events whose end time has passed become ended."""
    return services.event_end_past()
