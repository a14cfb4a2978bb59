"""The whole Celery beat schedule, in one place.

Every periodic task is idempotent and only makes durable what reads already treat as true (an expired
hold is expired whether or not its task has run yet). Add new entries here, never in app modules.
The README's "Background work" table mirrors this dict.
"""

from datetime import timedelta

BEAT_SCHEDULE: dict[str, dict] = {
    "core-heartbeat": {
        "task": "core.tasks.heartbeat",
        "schedule": timedelta(seconds=30),
        "options": {"expires": 25},
    },
    # Delivers pending outbox messages that are due: retries after backoff, messages whose on-commit
    # enqueue failed, and claims left by a worker that died mid-delivery.
    "notifications-dispatch-due": {
        "task": "notifications.tasks.dispatch_due",
        "schedule": timedelta(seconds=30),
        "options": {"expires": 25},
    },
    # Releases seats held by checkout sessions past their expiry (reads already count them as free).
    "ticketing-expire-checkout-sessions": {
        "task": "ticketing.tasks.expire_checkout_sessions",
        "schedule": timedelta(seconds=30),
        "options": {"expires": 25},
    },
    # Cancels unpaid pay-at-the-door orders past their hold (reads and the next checkout already treat
    # them as expired) and tells buyers and the promoter.
    "ticketing-expire-unpaid-orders": {
        "task": "ticketing.tasks.expire_unpaid_orders",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 240},
    },
    # Finishes refunding / cancelling the orders of cancelled events (event_cancel does it at once; this
    # picks up what was busy or interrupted).
    "ticketing-settle-cancelled-events": {
        "task": "ticketing.tasks.settle_cancelled_events",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 240},
    },
    "ticketing-end-past-events": {
        "task": "ticketing.tasks.end_past_events",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 240},
    },
    # Escalates support tickets past their due time (business hours; paused while awaiting the customer).
    # Overdue badges do not wait for it: inbox reads compare due_at with now.
    "support-escalate-overdue": {
        "task": "support.tasks.escalate_overdue",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
    # Makes durable what status pages already show: tickets past their queue's time-to-live expire.
    "queues-expire-tickets": {
        "task": "queues.tasks.expire_tickets",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
    # Expires waitlist offers past their window (reads already treat them as expired) and offers free
    # seats to the next waiting entries; seats_freed does this at once, this is the safety net.
    # Waiting rooms: flushes "seen" heartbeats, expires unseen entries and passed admissions (reads
    # already treat them as expired), makes the pre-queue draw at opening and admits the next people
    # while checkout places are free. Releases admit at once (seats_freed); this is the steady tick.
    "waitingroom-admit": {
        "task": "waitingroom.tasks.admit",
        "schedule": timedelta(seconds=5),
        "options": {"expires": 15},
    },
    "waitlists-process-offers": {
        "task": "waitlists.tasks.process_offers",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
    # Owed provider steps (tip capture/void, refunds) retried with their idempotency keys; receipts numbered.
    "payments-settle": {
        "task": "payments.tasks.settle",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
    # Scores the ETA ranges shown on status / place pages against when people were served, and
    # recalibrates the ranges toward an 80 % hit rate (queues.accuracy). Ranges shown never wait for it.
    "queues-refresh-eta": {
        "task": "queues.tasks.refresh_eta",
        "schedule": timedelta(seconds=30),
        "options": {"expires": 25},
    },
}
