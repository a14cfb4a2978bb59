"""Simulate time passing for a help-desk ticket: move its deadlines into the past, then run escalation.

    manage.py support_simulate_overdue <REFERENCE> [--hours 10 | --overdue-by 5]

``--hours`` ages the ticket by that many wall-clock hours (a big jump can pass the next level's deadline
too: the beat then escalates again, as it would after that much real time). ``--overdue-by`` ages it
just enough to be that many minutes past its due time: one breach, the next level's deadline still ahead.
For demos and the browser walk-through; the beat task does the same escalation on real time.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.references import normalize_reference
from queues.models import QueueKind, Ticket
from support import services


class Command(BaseCommand):
    help = "Age a support ticket by N hours (its due time passes) and run the escalation once."

    def add_arguments(self, parser):
        parser.add_argument("reference")
        how = parser.add_mutually_exclusive_group()
        how.add_argument("--hours", type=float, default=24.0, help="age the ticket by this many hours")
        how.add_argument(
            "--overdue-by", type=float, metavar="MINUTES", help="age it until it is this many minutes overdue"
        )

    def handle(self, *args, reference, hours, overdue_by, **options):
        ticket = Ticket.objects.filter(
            reference=normalize_reference(reference) or "", queue__kind=QueueKind.SUPPORT
        ).first()
        if ticket is None:
            raise CommandError(f"No support ticket {reference}.")
        if overdue_by is not None:
            if ticket.due_at is None:
                raise CommandError(f"{ticket.reference} has no running due time (paused or resolved).")
            remaining = (ticket.due_at - timezone.now()).total_seconds() / 3600
            hours = max(remaining, 0.0) + overdue_by / 60
        services.support_clock_shift(ticket=ticket, hours=hours)
        escalated = services.support_escalate_due()
        ticket.refresh_from_db()
        self.stdout.write(
            f"{ticket.reference}: due {ticket.due_at or 'paused'} (UTC), escalation level "
            f"{ticket.escalation_level}, assignee {ticket.assignee or 'nobody'}; "
            f"escalated {escalated} ticket(s)."
        )
