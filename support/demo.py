"""Help-desk demo for campus-help: support queues "IT help" (from the queues demo) and "Facilities" with
business hours in Asia/Kolkata, holidays, agents (Sam Staff in IT only — a queue-scoped role; Farah in
Facilities only), a manager for level-1 escalations, and a few tickets: one with a public reply and an
internal note, one waiting on the customer, and one overdue that the escalation has moved to the
manager. Idempotent: each step checks whether its result exists already."""

from datetime import date, time, timedelta

from django.utils import timezone

from queues import services as queue_services
from queues.models import Queue, QueueKind, Ticket
from support import services
from support.models import AssignmentMode, SupportAgent
from support.services import AgentSpec
from tenants.demo import DEMO_PASSWORD
from tenants.models import Membership, Role, User

HOLIDAYS = [
    (date(2026, 1, 26), "Republic Day"),
    (date(2026, 8, 15), "Independence Day"),
    (date(2026, 10, 2), "Gandhi Jayanti"),
    (date(2026, 12, 25), "Christmas"),
    (date(2027, 1, 26), "Republic Day"),
]
WEEKDAYS = [(day, time(9), time(18)) for day in range(5)] + [(5, time(10), time(14))]
TURNAROUNDS = {"urgent": 120, "high": 240, "normal": 480, "low": 960}


LOGINS = [
    (
        "manager@demo.virtualq.test",
        DEMO_PASSWORD,
        "help-desk manager at campus-help (escalation level 1)",
    ),
    ("it@demo.virtualq.test", DEMO_PASSWORD, "help-desk agent of IT help"),
    ("facilities@demo.virtualq.test", DEMO_PASSWORD, "help-desk agent of Facilities"),
]


def _member(tenant, email: str, name: str, role: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, name=name)
    Membership.objects.get_or_create(user=user, tenant=tenant, defaults={"role": role})
    return user


def seed(tenants, users):
    tenant = tenants["helpdesk"]
    owner, staff = users["helpdesk"], users["staff"]
    manager = _member(tenant, "manager@demo.virtualq.test", "Mira Manager", Role.MANAGER)
    facilities_agent = _member(tenant, "facilities@demo.virtualq.test", "Farah Facilities", Role.STAFF)
    it_agent = _member(tenant, "it@demo.virtualq.test", "Ishaan IT", Role.STAFF)

    it = Queue.objects.filter(tenant=tenant, slug="it-help").first()
    if it is None:
        it = queue_services.queue_create(
            tenant=tenant, actor=owner, slug="it-help", name="IT help", kind=QueueKind.SUPPORT
        )
    if not SupportAgent.objects.filter(support_queue__queue=it).exists():
        services.support_queue_configure(
            tenant=tenant,
            actor=owner,
            queue=it,
            assignment_mode=AssignmentMode.LEAST_LOADED,
            default_turnaround_minutes=480,
            turnarounds=TURNAROUNDS,
            hours=WEEKDAYS,
            holidays=HOLIDAYS,
            agents=[AgentSpec(staff.pk, is_primary=True, priority=1), AgentSpec(it_agent.pk, priority=2)],
            escalation_manager=manager,
            escalation_owner=owner,
        )
        # Tickets filed before the settings existed get an assignee now.
        for ticket in Ticket.objects.filter(queue=it, assignee__isnull=True):
            services.support_ticket_assign(
                membership=Membership.objects.get(tenant=tenant, user=owner), ticket=ticket, assignee=staff
            )
        _it_tickets(tenant, it)

    facilities = Queue.objects.filter(tenant=tenant, slug="facilities").first()
    if facilities is None:
        facilities = queue_services.queue_create(
            tenant=tenant,
            actor=owner,
            slug="facilities",
            name="Facilities",
            kind=QueueKind.SUPPORT,
            description="Broken furniture, leaks, lights, heating and cleaning on campus.",
        )
        services.support_queue_configure(
            tenant=tenant,
            actor=owner,
            queue=facilities,
            assignment_mode=AssignmentMode.PRIMARY,
            default_turnaround_minutes=600,
            turnarounds={"urgent": 60, "high": 240},
            hours=[(day, time(8), time(17)) for day in range(6)],
            holidays=HOLIDAYS,
            agents=[AgentSpec(facilities_agent.pk, is_primary=True, priority=1)],
            escalation_manager=manager,
            escalation_owner=owner,
        )
        _facilities_tickets(tenant, facilities)


def _assignee_membership(tenant, ticket) -> Membership:
    ticket.refresh_from_db()
    return Membership.objects.get(tenant=tenant, user_id=ticket.assignee_id)


def _it_tickets(tenant, queue):
    printer = services.support_ticket_submit(
        tenant=tenant,
        queue=queue,
        name="Arjun Rao",
        email="arjun@example.test",
        title="Printer in lab 3 prints blank pages",
        description="Every job from the lab 3 PCs comes out blank since this morning.",
        priority="high",
        location="Lab 3, CS building",
        custom_data={"category": "Equipment"},
        metadata={"category": "Equipment", "building": "CS", "room": "Lab 3", "channel": "web"},
        email_consent=True,
    )
    staff_membership = _assignee_membership(tenant, printer)
    services.support_comment_add(
        membership=staff_membership,
        ticket=printer,
        body="Thanks Arjun, we are looking at the printer queue now.",
        is_internal=False,
    )
    services.support_comment_add(
        membership=staff_membership,
        ticket=printer,
        body="Toner cartridge reports OK; suspect the print server driver update from last night.",
        is_internal=True,
    )
    vpn = services.support_ticket_submit(
        tenant=tenant,
        queue=queue,
        name="Neha Singh",
        email="neha@example.test",
        title="VPN asks for a code I never receive",
        description="The VPN login wants a one-time code but no SMS arrives.",
        custom_data={"category": "Account"},
        metadata={"category": "Account", "building": "Hostel B", "channel": "web"},
        email_consent=True,
    )
    staff_membership = _assignee_membership(tenant, vpn)
    services.support_ticket_transition(membership=staff_membership, ticket=vpn, event="start")
    services.support_comment_add(
        membership=staff_membership,
        ticket=vpn,
        body="Could you tell us which phone number your account shows under Profile → Security?",
        is_internal=False,
    )
    services.support_ticket_transition(membership=staff_membership, ticket=vpn, event="ask_customer")


def _facilities_tickets(tenant, queue):
    services.support_ticket_submit(
        tenant=tenant,
        queue=queue,
        name="Kavya Iyer",
        email="kavya@example.test",
        title="Projector in room 204 flickers",
        description="The projector flickers every few seconds during lectures.",
        location="Main building, room 204",
        custom_data={"category": "Equipment"},
        metadata={"category": "Equipment", "building": "Main", "room": "204", "channel": "web"},
    )
    # Filed four days ago and never touched: past due; the escalation moves it to the manager.
    services.support_ticket_submit(
        tenant=tenant,
        queue=queue,
        name="Rohan Das",
        email="rohan@example.test",
        title="Leaking tap in hostel B washroom",
        description="The tap on the second floor has been leaking for days; the floor is wet.",
        priority="high",
        location="Hostel B, 2nd floor",
        custom_data={"category": "Facilities"},
        metadata={"category": "Facilities", "building": "Hostel B", "channel": "web"},
        now=timezone.now() - timedelta(days=4),
    )
    services.support_escalate_due()
