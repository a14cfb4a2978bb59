"""The queues app's part of a customer's data rights (called by ``privacy.services`` inside its
transaction): export their queue requests and help-desk conversations, erase what they wrote.

Help-desk tickets are queue tickets of support queues; their conversations are the public comments
(internal notes are the team's, never exported). Erasure keeps the tickets (counts, tips and service
statistics stay whole) but empties everything the person typed or attached.
"""

from __future__ import annotations

from django.db.models import Q

from queues.models import QueueKind, Ticket, TicketAttachment, TicketComment, TicketEvent

ERASED = "[erased at the customer's request]"


def _tickets(customers):
    return (
        Ticket.objects.filter(customer__in=customers)
        .select_related("queue", "lane")
        .order_by("submitted_at", "pk")
    )


def export_customer(customers) -> dict[str, list[dict]]:
    requests, conversations = [], []
    tickets = list(_tickets(customers))
    comments: dict[int, list[dict]] = {}
    for comment in TicketComment.objects.filter(ticket__in=tickets, is_internal=False).order_by(
        "created_at", "pk"
    ):
        comments.setdefault(comment.ticket_id, []).append(
            {
                "from": "you" if comment.author_customer_id else "the team",
                "at": comment.created_at.isoformat(),
                "text": comment.body,
            }
        )
    for ticket in tickets:
        row = {
            "reference": ticket.reference,
            "queue": ticket.queue.name,
            "state": ticket.state,
            "submitted_at": ticket.submitted_at.isoformat() if ticket.submitted_at else None,
            "contact": {
                "name": ticket.contact_name,
                "email": ticket.contact_email,
                "phone": ticket.contact_phone,
            },
            "title": ticket.title,
            "description": ticket.need_text,
            "details": ticket.custom_data,
            "email_updates": ticket.email_consent,
        }
        if ticket.queue.kind == QueueKind.SUPPORT:
            row.update(
                priority=ticket.priority, location=ticket.location, messages=comments.get(ticket.pk, [])
            )
            conversations.append(row)
        else:
            row.update(lane=ticket.lane.name, tip_cents=ticket.tip_cents, currency=ticket.currency)
            requests.append(row)
    return {"queue_requests": requests, "help_desk_conversations": conversations}


def related_keys(customers) -> list[tuple[str, str]]:
    return [
        ("queues.ticket", str(pk))
        for pk in Ticket.objects.filter(customer__in=customers).values_list("pk", flat=True)
    ]


def erase_customer(customers, *, now, related=()) -> None:
    tickets = Ticket.objects.filter(customer__in=customers)
    ticket_ids = list(tickets.values_list("pk", flat=True))
    for attachment in TicketAttachment.objects.filter(ticket_id__in=ticket_ids).filter(
        Q(comment__isnull=True) | Q(comment__author_customer__in=customers)
    ):
        attachment.file.delete(save=False)
        attachment.delete()
    TicketComment.objects.filter(author_customer__in=customers).update(body=ERASED, edit_history=[])
    TicketEvent.objects.filter(ticket_id__in=ticket_ids, actor__isnull=True).exclude(actor_label="").update(
        actor_label="customer"
    )
    tickets.update(
        title="",
        need_text="",
        custom_data={},
        location="",
        metadata={},
        email_consent=False,
        contact_name="",
        contact_email="",
        contact_phone="",
    )


def withdraw_consent(customers, *, now) -> None:
    Ticket.objects.filter(customer__in=customers).update(email_consent=False)
