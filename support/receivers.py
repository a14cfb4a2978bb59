"""Keep the help desk in step with the queues services, inside their transactions.

The queues services own the ticket writes and their durable transactions; a help-desk ticket needs a few
more writes in the *same* transaction (its due time and assignee at submission, its clock on every
transition, a notice on every comment, a live notice to the customer's open page after commit). They
write a TicketEvent for each submission and transition and a TicketComment for each comment, inside the
transaction and after the ticket row is saved, so a ``post_save`` receiver here runs at the right moment
with the service's own time (``occurred_at``). Only tickets of support-kind queues are touched; anything
raised rolls the whole change back.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from queues.models import QueueKind, TicketComment, TicketEvent
from support.events import announce_to_customer


def _is_support(ticket) -> bool:
    return ticket.queue.kind == QueueKind.SUPPORT


@receiver(post_save, sender=TicketEvent, dispatch_uid="support.ticket_event")
def on_ticket_event(sender, instance: TicketEvent, created: bool, raw: bool = False, **kwargs):
    if not created or raw:
        return
    ticket = instance.ticket
    if not _is_support(ticket):
        return
    from support import services

    if instance.event == "submit":
        services.route_new_ticket(ticket, now=instance.occurred_at)
    elif instance.event == "assign":
        services.notify_manual_assignment(ticket, actor=instance.actor, now=instance.occurred_at)
    elif instance.from_state and instance.to_state and instance.from_state != instance.to_state:
        services.clock_on_transition(
            ticket, from_state=instance.from_state, to_state=instance.to_state, now=instance.occurred_at
        )
        announce_to_customer(ticket, reply=False)


@receiver(post_save, sender=TicketComment, dispatch_uid="support.ticket_comment")
def on_ticket_comment(sender, instance: TicketComment, created: bool, raw: bool = False, **kwargs):
    if not created or raw or not _is_support(instance.ticket):
        return
    from support import services

    services.notify_on_comment(instance)
    if not instance.is_internal and instance.author_customer_id is None:  # the team wrote to the customer
        announce_to_customer(instance.ticket, reply=True)
