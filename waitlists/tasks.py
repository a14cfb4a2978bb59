"""Periodic waitlist work. Thin and idempotent: the service expires offers past their time (reads
already treat them as expired) and offers free seats to the next entries; a second run finds nothing."""

from celery import shared_task

from waitlists import services


@shared_task(name="waitlists.tasks.process_offers", ignore_result=True, acks_late=True)
def process_offers() -> int:
    """Expire due offers and offer freed seats, per event with waiting entries. Returns offers made."""
    return services.waitlist_process_due()
