"""Demo queues: Ava's request queue (priority + personal, approved and pending requests), the bakery's
service counter, and the campus help desk's support queue. Idempotent: a queue that exists is left
as it is, so a second ``seed_demo`` changes nothing."""

from django.utils import timezone

from queues import services
from queues.models import Queue, QueueKind
from queues.services import LaneSpec

AVA_REQUESTS = [
    # lane, name, email, need, approve?
    ("priority", "Maya Chen", "maya@example.test", "Happy birthday song for my sister Lin!", True),
    ("personal", "Jonas Weber", "jonas@example.test", "Could you cover 'Blackbird'?", True),
    ("priority", "Priya Patel", "priya@example.test", "Shout-out for our wedding anniversary", True),
    ("priority", "Tom Ruiz", "tom@example.test", "A short lullaby for my daughter Ana", True),
    ("personal", "Sara Lind", "sara@example.test", "Any song from your first album", True),
    ("priority", "Leo Martin", "leo@example.test", "Congratulate my team on the launch", False),
    ("personal", "Ines Costa", "ines@example.test", "Would love a duet idea for my choir", False),
]


def seed(tenants, users):
    creator, shop, helpdesk = tenants["creator"], tenants["shop"], tenants["helpdesk"]
    if not Queue.objects.filter(tenant=creator, slug="requests").exists():
        queue = services.queue_create(
            tenant=creator,
            actor=users["creator"],
            slug="requests",
            name="Song requests",
            kind=QueueKind.CREATOR,
            description="Ask Ava for a personal song or shout-out. Priority requests carry a tip.",
            default_service_minutes=8,
            lanes=[
                LaneSpec("priority", "Priority", 3, 500, "Served three at a time, with a tip.", "P"),
                LaneSpec("personal", "Personal", 1, 0, "Free, one for every three priority requests.", "F"),
            ],
        )
        for lane_code, name, email, need, approve in AVA_REQUESTS:
            lane = queue.lanes.get(code=lane_code)
            ticket = services.ticket_submit(
                tenant=creator,
                queue=queue,
                lane=lane,
                name=name,
                email=email,
                need_text=need,
                tip_cents=lane.minimum_tip_cents + (500 if name == "Maya Chen" else 0),
                email_consent=True,
                social_handle="@" + name.split()[0].lower(),
            )
            if approve:
                services.ticket_approve(tenant=creator, actor=users["creator"], ticket=ticket)
        # One served and completed earlier, so the ETA has a little history.
        called = services.ticket_call_next(tenant=creator, actor=users["creator"], queue=queue)
        if called is not None:
            called.refresh_from_db()
            services.ticket_transition(
                tenant=creator,
                actor=users["creator"],
                ticket=called,
                event="complete",
                now=timezone.now() + timezone.timedelta(minutes=7),
            )

    if not Queue.objects.filter(tenant=shop, slug="counter").exists():
        service_type = services.system_ticket_type("service")
        queue = services.queue_create(
            tenant=shop,
            actor=users["shop"],
            slug="counter",
            name="Cake counter",
            kind=QueueKind.SERVICE,
            ticket_type=service_type,
            description="Take a number for the cake counter; we call you when it is your turn.",
            default_service_minutes=4,
        )
        lane = queue.lanes.get()
        for name in ["Ben", "Clara", "Dev", "Emma"]:
            services.ticket_submit(
                tenant=shop,
                queue=queue,
                lane=lane,
                name=name,
                email=f"{name.lower()}@example.test",
                need_text="A birthday cake, please",
                location="in the shop",
            )
        services.ticket_call_next(tenant=shop, actor=users["shop"], queue=queue)

    if not Queue.objects.filter(tenant=helpdesk, slug="it-help").exists():
        queue = services.queue_create(
            tenant=helpdesk,
            actor=users["helpdesk"],
            slug="it-help",
            name="IT help",
            kind=QueueKind.SUPPORT,
            description="Problems with accounts, Wi-Fi or lab computers.",
            default_service_minutes=30,
        )
        lane = queue.lanes.get()
        for title, category in [
            ("Wi-Fi drops in library", "Facilities"),
            ("Cannot log in to portal", "Account"),
        ]:
            services.ticket_submit(
                tenant=helpdesk,
                queue=queue,
                lane=lane,
                name="Student",
                email="student@example.test",
                title=title,
                need_text=title + ".",
                custom_data={"category": category},
                location="Main campus",
            )
