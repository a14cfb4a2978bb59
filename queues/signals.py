"""Named extension points of queues (sent by ``queues.services``, never from model signals).

``ticket_moved`` is sent inside the transition's transaction, after the ticket and its history row are
saved and with the queue row locked, each time a ticket's workflow event is applied:

    ticket_moved.send(sender=Ticket, ticket=Ticket, event=str, from_phase=str, to_phase=str, now=datetime)

Receivers run in that transaction (their writes commit or roll back with it); they must not do network
I/O there — schedule it with ``transaction.on_commit``. ``payments`` listens to capture or void the
priority tip authorised at submission.
"""

from django.dispatch import Signal

ticket_moved = Signal()
