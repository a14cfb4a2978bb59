"""Simulate time passing for a help-desk ticket: move its deadlines into the past, then run escalation.

    manage.py support_simulate_overdue <REFERENCE> [--hours 10]

For demos and the browser walk-through; the beat task does the same escalation on real time.
"""

from django.core.management.base import BaseCommand, CommandError

from core.references import normalize_reference
from queues.models import QueueKind, Ticket
from support import services


class Command(BaseCommand):
    help = "Age a support ticket by N hours (its due time passes) and run the escalation once."

    def add_arguments(self, parser):
        parser.add_argument("reference")
        parser.add_argument("--hours", type=float, default=24.0)

    def handle(self, *args, reference, hours, **options):
        ticket = Ticket.objects.filter(
            reference=normalize_reference(reference) or "", queue__kind=QueueKind.SUPPORT
        ).first()
        if ticket is None:
            raise CommandError(f"No support ticket {reference}.")
        services.support_clock_shift(ticket=ticket, hours=hours)
        escalated = services.support_escalate_due()
        ticket.refresh_from_db()
        self.stdout.write(
            f"{ticket.reference}: due {ticket.due_at or 'paused'} (UTC), escalation level "
            f"{ticket.escalation_level}, assignee {ticket.assignee or 'nobody'}; "
            f"escalated {escalated} ticket(s)."
        )
