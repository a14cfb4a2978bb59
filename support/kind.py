"""The support kind's handlers (``queues.kinds``, registered in ``SupportConfig.ready``): keep the help
desk in step with the queues services, inside their transactions.

The queues services own the ticket writes and their durable transactions; a help-desk ticket needs a few
more writes in the *same* transaction (its due time and assignee at submission, its clock on every
transition, a notice on every comment, a live notice to the customer's open page after commit). queues
calls these right after it writes the TicketEvent of each submission and transition and the TicketComment
of each comment, with the service's own time (``occurred_at``). They are registered for support-kind
queues only; anything raised rolls the whole change back.
"""

from queues.models import TicketComment, TicketEvent
from support.events import announce_to_customer


def on_ticket_event(instance: TicketEvent) -> None:
    ticket = instance.ticket
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


def on_ticket_comment(instance: TicketComment) -> None:
    from support import services

    services.notify_on_comment(instance)
    if not instance.is_internal and instance.author_customer_id is None:  # the team wrote to the customer
        announce_to_customer(instance.ticket, reply=True)
