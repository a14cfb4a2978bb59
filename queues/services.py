"""The write path for queues. Every state change of a queue, lane, ticket type or ticket is here.

Locks, always in this order (so no two services wait on each other in a cycle):

1. the queue row (``SELECT … FOR UPDATE``) — taken by every ticket transition, "call next", lane changes
   and settings changes; it serialises the interleave phase and the ETA statistics;
2. lane rows, by a single ``UPDATE … RETURNING`` each, in lane-id order — the deli counter and the
   waiting count (a submission takes only this one, never the queue row);
3. the ticket, optimistically: ``ConcurrentTransitionMixin`` saves with ``WHERE state = <state read>``,
   so of two concurrent transitions exactly one wins; the loser gets ``Conflict`` and nothing changes.

Every transition writes a TicketEvent in the same transaction; right after it (and right after a comment row)
the queue kind's handlers run (``queues.kinds``: support registers the support kind), after the rows above,
taking their own rows last. Side effects — the one broadcast per queue
change and notifications (outbox rows written in the transaction; delivery scheduled on commit) — are
scheduled with ``transaction.on_commit``.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import django_fsm
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, pgettext
from django.utils.translation import gettext as _

from core.errors import Busy, Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from core.locking import DEFAULT_LOCK_TIMEOUT_MS, is_lock_timeout
from core.references import new_reference
from core.times import format_zoned
from notifications.webhooks import emit_ticket_event
from queues import kinds, positions
from queues import workflow as wf
from queues.events import ChangeSet
from queues.models import (
    BLOCK_SIZE,
    TICKET_SEQUENCE,
    Lane,
    LaneBlock,
    Queue,
    QueueKind,
    Ticket,
    TicketAttachment,
    TicketComment,
    TicketEvent,
    TicketType,
)
from queues.schema_forms import check_schema, validate_custom_data
from queues.signals import ticket_moved
from tenants.models import Membership, Role, Tenant

ALLOWED_UPLOADS = {
    # extension: (content type, magic prefixes or None for text)
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    ".webp": ("image/webp", (b"RIFF",)),
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".txt": ("text/plain", None),
    ".mp3": ("audio/mpeg", (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")),
}
MAX_ATTACHMENTS = 3
SUPPORT_SCHEMA = {
    "type": "object",
    "properties": {
        "category": {
            "type": "string",
            "title": "Category",
            "enum": ["Account", "Equipment", "Facilities", "Other"],
        },
    },
}
STATS_WINDOW = 20


# --- helpers ----------------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _lock_queue(queue_id: int) -> Queue:
    """Lock the queue row, waiting at most DEFAULT_LOCK_TIMEOUT_MS: contention becomes Busy ("try again")."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = %s", [f"{DEFAULT_LOCK_TIMEOUT_MS}ms"])
        try:
            with transaction.atomic():
                queue = Queue.objects.select_for_update().get(pk=queue_id)
        except OperationalError as error:
            if is_lock_timeout(error):
                raise Busy(
                    gettext("Someone else is updating this queue right now. Please try again.")
                ) from error
            raise
        finally:
            cursor.execute("SET LOCAL lock_timeout = 0")
    return queue


ALREADY_CHANGED = gettext_lazy(
    "Someone else changed this ticket at the same moment; nothing was changed. Reload and try again."
)


def _check_unchanged(ticket: Ticket) -> None:
    """Compare the ticket the actor acted on with the row, AFTER the queue lock is held (every writer of a
    ticket's state or lane holds it, so the row cannot move until we commit). Checking before the lock,
    or trusting the optimistic FSM check alone, lets a stale press reach the lane counters first and die
    on their CHECK (a 500); here it is a Conflict that changed nothing."""
    current = Ticket.objects.filter(pk=ticket.pk).values_list("state", "lane_id").first()
    if current is None:
        raise NotFound()
    if current != (ticket.state, ticket.lane_id):
        raise Conflict(str(ALREADY_CHANGED))


def _lane_join(lane_id: int, sequence: int) -> tuple[int, int]:
    """Hand out the lane's next turn and count one more waiting (lane and its block); returns
    (turn, lane version). The lane row is locked first, then the block row."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE queues_lane SET next_turn = next_turn + 1, waiting_count = waiting_count + 1, "
            "version = version + 1 WHERE id = %s RETURNING next_turn - 1, version",
            [lane_id],
        )
        turn, version = cursor.fetchone()
        cursor.execute(
            "INSERT INTO queues_laneblock (lane_id, block, waiting) VALUES (%s, %s, 1) "
            "ON CONFLICT (lane_id, block) DO UPDATE SET waiting = queues_laneblock.waiting + 1",
            [lane_id, sequence // BLOCK_SIZE],
        )
    return turn, version


def _lane_leave(lane_id: int, sequence: int, *, called_turn: int | None) -> int:
    """Count one fewer waiting (lane and block; show ``called_turn`` as now serving); returns the lane
    version."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE queues_lane SET waiting_count = waiting_count - 1, version = version + 1, "
            "now_serving = COALESCE(%s, now_serving) WHERE id = %s RETURNING version",
            [called_turn, lane_id],
        )
        (version,) = cursor.fetchone()
        cursor.execute(
            "UPDATE queues_laneblock SET waiting = waiting - 1 WHERE lane_id = %s AND block = %s",
            [lane_id, sequence // BLOCK_SIZE],
        )
    return version


def _rank(ticket: Ticket) -> int:
    from queues.selectors import lane_rank

    return lane_rank(ticket)


def _event(ticket: Ticket, *, event: str, from_state: str, to_state: str, actor, note: str, now, label=""):
    emit_ticket_event(
        ticket, event=event, from_state=from_state, to_state=to_state, actor=actor, note=note, now=now
    )
    recorded = TicketEvent.objects.create(
        tenant_id=ticket.tenant_id,
        ticket=ticket,
        event=event,
        from_state=from_state,
        to_state=to_state,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=label,
        note=note,
        occurred_at=now,
        lane_id=ticket.lane_id,
    )
    kinds.event_recorded(recorded)  # the queue kind's handlers (queues.kinds), in this transaction
    return recorded


def _check_tenant(tenant: Tenant, *objects) -> None:
    for obj in objects:
        if obj is not None and getattr(obj, "tenant_id", tenant.pk) != tenant.pk:
            raise NotFound()


def status_path(ticket: Ticket) -> str:
    return reverse("queues:status", args=[ticket.reference])


def _notify_customer(ticket: Ticket, event_type: str, headline, body, now) -> None:
    """``headline`` and ``body``: lazy (marked) texts, or a note the member typed; notify words them in
    the customer's language (the context is built under it)."""
    # Support tickets tell their customer through the help desk's own messages (support.updated),
    # worded for a conversation, not for a turn in a line.
    if ticket.customer_id is None or ticket.queue.kind == QueueKind.SUPPORT:
        return
    from notifications.services import notify

    def context() -> dict:
        text = str(headline)
        return {
            "subject": gettext("%(queue)s: %(headline)s") % {"queue": ticket.queue.name, "headline": text},
            "headline": text,
            "body": str(body),
            "action_url": status_path(ticket),
            "action_label": gettext("See your status"),
        }

    notify(
        tenant=ticket.tenant,
        event_type=event_type,
        customer=ticket.customer,
        related=ticket,
        now=now,
        context=context,
    )


def new_ticket_subject(ticket: Ticket) -> tuple[str, str]:
    """The subject and headline that tell the team about a new ticket: the queue (the help desk) by name,
    the lane only when the queue has a choice of lanes (a single-lane queue's lane is "Main", which
    means nothing to the reader), and the ticket by its title or reference."""
    what = ticket.title or ticket.reference
    if ticket.lane.code == "main":
        headline = _("New ticket in %(queue)s: %(what)s") % {"queue": ticket.queue.name, "what": what}
    else:
        headline = _("New ticket in %(queue)s (%(lane)s lane): %(what)s") % {
            "queue": ticket.queue.name,
            "lane": ticket.lane.name,
            "what": what,
        }
    return f"[{ticket.reference}] {headline}", headline


def _notify_team(ticket: Ticket, now) -> None:
    from notifications.services import notify

    managers = Membership.objects.filter(tenant_id=ticket.tenant_id, role__in=[Role.OWNER, Role.MANAGER])

    def context() -> dict:  # built in each manager's language
        subject, headline = new_ticket_subject(ticket)
        return {
            "subject": subject,
            "headline": headline,
            "body": (ticket.need_text or ticket.title)[:500],
            "action_url": reverse("queues:queue_board", args=[ticket.tenant.slug, ticket.queue.slug]),
            "action_label": gettext("Open the queue"),
        }

    for membership in managers.select_related("user"):
        notify(
            tenant=ticket.tenant,
            event_type="ticket.submitted",
            user=membership.user,
            related=ticket,
            now=now,
            context=context,
        )


def _refresh_service_stats(queue: Queue) -> None:
    """Moving average (and spread) of the last STATS_WINDOW service durations, kept on the queue row."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), avg(d), stddev_samp(d) FROM ("
            " SELECT EXTRACT(EPOCH FROM (completed_at - started_at)) AS d FROM queues_ticket"
            " WHERE queue_id = %s AND completed_at IS NOT NULL AND started_at IS NOT NULL"
            " ORDER BY completed_at DESC LIMIT %s) recent",
            [queue.pk, STATS_WINDOW],
        )
        samples, average, spread = cursor.fetchone()
    Queue.objects.filter(pk=queue.pk).update(
        service_samples=samples or 0,
        service_seconds_average=float(average) if average is not None else None,
        service_seconds_spread=float(spread) if spread is not None else None,
    )


def validate_upload(upload: UploadedFile) -> tuple[str, str]:
    """Raise ValidationError unless ``upload`` is within the size limit and of an allowed type (checked by
    extension *and* content). Returns (safe file name, content type)."""
    name = (upload.name or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][-100:]
    extension = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if upload.size is None or upload.size < 1:
        message = gettext("%(name)s is empty.") % {"name": name}
        raise ValidationError(message, field_errors={"attachments": [message]})
    if upload.size > settings.UPLOAD_MAX_BYTES:
        limit = settings.UPLOAD_MAX_BYTES // (1024 * 1024) or 1
        message = gettext("%(name)s is larger than %(limit)s MB.") % {"name": name, "limit": limit}
        raise ValidationError(message, field_errors={"attachments": [message]})
    allowed = ALLOWED_UPLOADS.get(extension)
    message = gettext(
        "%(name)s: only images (JPEG, PNG, GIF, WebP), PDF, plain text and MP3 files can be attached."
    ) % {"name": name}
    if allowed is None:
        raise ValidationError(message, field_errors={"attachments": [message]})
    content_type, magics = allowed
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    if magics is None:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            if len(head) < 2048:  # a cut multi-byte character at the boundary is fine
                raise ValidationError(message, field_errors={"attachments": [message]}) from None
    elif not any(head.startswith(magic) for magic in magics):
        message = gettext("%(name)s does not look like a %(kind)s file.") % {
            "name": name,
            "kind": extension[1:].upper(),
        }
        raise ValidationError(message, field_errors={"attachments": [message]})
    return name, content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"


# --- ticket types -----------------------------------------------------------------------------------


def system_ticket_type(code: str) -> TicketType:
    """The system type ``code``. Shipped by migration 0002; recreated from the same data if the rows were
    removed (e.g. a flushed database), so creating a queue never depends on that history."""
    ticket_type = TicketType.objects.filter(tenant=None, code=code).first()
    if ticket_type is not None:
        return ticket_type
    name, workflow = wf.SYSTEM_TYPES[code]
    schema = SUPPORT_SCHEMA if code == "support" else {}
    try:
        with transaction.atomic():
            return TicketType.objects.create(
                tenant=None,
                code=code,
                name=name,
                workflow=workflow,
                custom_fields_schema=schema,
                description=f"System type: {name.lower()} life cycle.",
            )
    except IntegrityError:
        return TicketType.objects.get(tenant=None, code=code)


def ticket_type_save(
    *,
    tenant: Tenant,
    actor,
    code: str,
    name: str,
    workflow: dict,
    custom_fields_schema: dict | None = None,
    ttl_minutes: int | None = None,
    description: str = "",
    ticket_type: TicketType | None = None,
) -> TicketType:
    """Create or update one of ``tenant``'s own ticket types (system types are read-only).

    Raises ValidationError naming the bad state/transition/field, or when a state still held by tickets
    would disappear. Locks the type row on update. Bumps ``version``.
    """
    errors: dict[str, list[str]] = {}
    try:
        machine = wf.parse_workflow(workflow)
    except wf.WorkflowError as error:
        errors["workflow"] = error.errors
        machine = None
    try:
        check_schema(custom_fields_schema or {})
    except ValueError as error:
        errors["custom_fields_schema"] = [str(error)]
    if errors:
        raise ValidationError(gettext("The ticket type has errors."), field_errors=errors)
    with transaction.atomic(durable=True):
        if ticket_type is None:
            if TicketType.objects.filter(tenant=tenant, code=code).exists():
                raise ValidationError(
                    field_errors={"code": [gettext("You already have a type with this code.")]}
                )
            ticket_type = TicketType(tenant=tenant, code=code)
        else:
            if ticket_type.tenant_id != tenant.pk:
                raise (
                    NotFound()
                    if ticket_type.tenant_id
                    else PermissionDenied(gettext("System types are read-only."))
                )
            ticket_type = TicketType.objects.select_for_update().get(pk=ticket_type.pk)
            in_use = set(ticket_type.tickets.values_list("state", flat=True).distinct())
            missing = sorted(in_use - set(machine.states))
            if missing:
                raise ValidationError(
                    field_errors={
                        "workflow": [
                            gettext("State “%(state)s” is still held by tickets; keep it or move them first.")
                            % {"state": s}
                            for s in missing
                        ]
                    }
                )
            ticket_type.version = F("version") + 1
        ticket_type.name = name
        ticket_type.description = description
        ticket_type.workflow = workflow
        ticket_type.custom_fields_schema = custom_fields_schema or {}
        ticket_type.ttl_minutes = ttl_minutes
        ticket_type.save()
        ticket_type.refresh_from_db()
    return ticket_type


# --- queues and lanes -------------------------------------------------------------------------------


@dataclass
class LaneSpec:
    code: str
    name: str
    weight: int = 1
    minimum_tip_cents: int = 0
    description: str = ""
    turn_prefix: str = ""


def _unique_prefixes(specs: list[LaneSpec]) -> list[str]:
    """A distinct turn prefix per lane: the given one, else the first unused letter of its code."""
    taken: set[str] = set()
    result = []
    for spec in specs:
        candidates = [spec.turn_prefix] if spec.turn_prefix else [c.upper() for c in spec.code if c.isalpha()]
        candidates += list("ABCDEFGHJKLMNPQRSTUVWXYZ")
        prefix = next(c for c in candidates if c and c not in taken)
        taken.add(prefix)
        result.append(prefix)
    return result


def queue_create(
    *,
    tenant: Tenant,
    actor,
    slug: str,
    name: str,
    kind: str = QueueKind.SERVICE,
    ticket_type: TicketType | None = None,
    lanes: Iterable[LaneSpec] | None = None,
    description: str = "",
    default_service_minutes: int | None = None,
    ttl_minutes: int | None = None,
    time_zone: str | None = None,
) -> Queue:
    """Create a queue with its lanes (a creator queue gets priority 3 : personal 1 by default)."""
    if ticket_type is None:
        code = {QueueKind.CREATOR: "creator-request", QueueKind.SUPPORT: "support"}.get(kind, "service")
        ticket_type = system_ticket_type(code)
    elif ticket_type.tenant_id not in (None, tenant.pk):
        raise NotFound()
    if lanes is None:
        lanes = (
            [
                LaneSpec("priority", "Priority", 3, 500, turn_prefix="P"),
                LaneSpec("personal", "Personal", 1, 0, turn_prefix="F"),
            ]
            if kind == QueueKind.CREATOR
            else [LaneSpec("main", "Main", 1, 0)]
        )
    if Queue.objects.filter(tenant=tenant, slug=slug).exists():
        raise ValidationError(field_errors={"slug": [gettext("You already have a queue at this address.")]})
    with transaction.atomic(durable=True):
        queue = Queue.objects.create(
            tenant=tenant,
            slug=slug,
            name=name,
            kind=kind,
            ticket_type=ticket_type,
            description=description,
            default_service_minutes=default_service_minutes,
            ttl_minutes=ttl_minutes,
            time_zone=time_zone or tenant.time_zone,
        )
        lanes = list(lanes)
        for order, (spec, prefix) in enumerate(zip(lanes, _unique_prefixes(lanes), strict=True)):
            Lane.objects.create(
                turn_prefix=prefix,
                tenant=tenant,
                queue=queue,
                code=spec.code,
                name=spec.name,
                weight=spec.weight,
                minimum_tip_cents=spec.minimum_tip_cents,
                description=spec.description,
                display_order=order,
            )
    return queue


QUEUE_SETTINGS = {"name", "description", "enabled", "is_public", "default_service_minutes", "ttl_minutes"}
LANE_SETTINGS = {"name", "description", "enabled", "weight", "minimum_tip_cents"}


def queue_update(*, tenant: Tenant, actor, queue: Queue, changes: dict) -> Queue:
    """Change queue settings (see QUEUE_SETTINGS). Locks the queue row; broadcasts the new state."""
    _check_tenant(tenant, queue)
    unknown = set(changes) - QUEUE_SETTINGS
    if unknown:
        raise ValidationError(
            gettext("Unknown queue settings: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    with transaction.atomic(durable=True):
        locked = _lock_queue(queue.pk)
        for key, value in changes.items():
            setattr(locked, key, value)
        locked.full_clean(exclude=["ticket_type", "tenant"])
        locked.save(update_fields=[*changes, "updated_at"])
        ChangeSet(tenant_id=tenant.pk, queue_id=queue.pk).broadcast_on_commit()
    return locked


def lane_update(*, tenant: Tenant, actor, lane: Lane, changes: dict) -> Lane:
    """Change lane settings (see LANE_SETTINGS): enable/disable, weight, minimum tip. Locks the queue row,
    then the lane; bumps the lane version so live watchers pick up the new weights."""
    _check_tenant(tenant, lane)
    unknown = set(changes) - LANE_SETTINGS
    if unknown:
        raise ValidationError(
            gettext("Unknown lane settings: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    if "weight" in changes and int(changes["weight"]) < 1:
        raise ValidationError(field_errors={"weight": [gettext("The weight must be at least 1.")]})
    with transaction.atomic(durable=True):
        _lock_queue(lane.queue_id)
        locked = Lane.objects.select_for_update().get(pk=lane.pk)
        for key, value in changes.items():
            setattr(locked, key, value)
        locked.version = F("version") + 1
        locked.save(update_fields=[*changes, "version", "updated_at"])
        locked.refresh_from_db()
        changes = ChangeSet(tenant_id=tenant.pk, queue_id=lane.queue_id)
        changes.lane_change(lane_id=lane.pk, version=locked.version)
        changes.broadcast_on_commit()
    return locked


# --- tickets ----------------------------------------------------------------------------------------


def ticket_submit(
    *,
    tenant: Tenant,
    queue: Queue,
    lane: Lane,
    name: str = "",
    email: str = "",
    phone: str = "",
    location: str = "",
    social_handle: str = "",
    need_text: str = "",
    title: str = "",
    custom_data: dict | None = None,
    tip_cents: int = 0,
    email_consent: bool = False,
    attachments: Iterable[UploadedFile] = (),
    submission_token: str = "",
    actor=None,
    priority: str = "normal",
    metadata: dict | None = None,
    now: datetime | None = None,
) -> Ticket:
    """A member of the public (or a member for them) submits a ticket into ``lane`` of ``queue``.

    Checks: queue and lane open, tip ≥ the lane's minimum, custom data valid against the type's JSON
    Schema, attachments within size/type limits. ``submission_token`` (one per rendered form) makes a
    double submit return the first ticket. Locks: only the lane row (one UPDATE) when the ticket enters
    the line at once; the queue row is not taken. Writes the ticket, its "submit" event, the customer,
    attachments and a notification per owner/manager; broadcasts once on commit.
    Raises ValidationError (with field errors), NotFound.
    """
    now = _now(now)
    _check_tenant(tenant, queue, lane)
    if lane.queue_id != queue.pk:
        raise NotFound()
    if submission_token:
        existing = Ticket.objects.filter(tenant=tenant, submission_token=submission_token).first()
        if existing is not None:
            return existing
    if not queue.enabled:
        raise ValidationError(
            gettext("%(queue)s is not taking new requests right now. Nothing was sent.")
            % {"queue": queue.name}
        )
    if not lane.enabled:
        raise ValidationError(
            gettext("The %(lane)s lane is closed right now. Nothing was sent.") % {"lane": lane.name.lower()},
            field_errors={
                "lane": [gettext("The %(lane)s lane is closed right now.") % {"lane": lane.name.lower()}]
            },
        )
    if tip_cents < 0:
        raise ValidationError(field_errors={"tip": [gettext("The tip cannot be negative.")]})
    if tip_cents < lane.minimum_tip_cents:
        from core.money import format_money

        minimum = format_money(lane.minimum_tip_cents, tenant.currency)
        message = gettext("The %(lane)s lane needs a tip of at least %(amount)s.") % {
            "lane": lane.name.lower(),
            "amount": minimum,
        }
        raise ValidationError(message, field_errors={"tip": [message]})
    ticket_type = queue.ticket_type
    custom_data = custom_data or {}
    errors = validate_custom_data(ticket_type.custom_fields_schema, custom_data)
    if errors:
        raise ValidationError(
            gettext("Some answers need another look."),
            field_errors={f"custom__{key}" if key else "__all__": value for key, value in errors.items()},
        )
    uploads = list(attachments)
    if len(uploads) > MAX_ATTACHMENTS:
        raise ValidationError(
            field_errors={
                "attachments": [gettext("Attach at most %(count)s files.") % {"count": MAX_ATTACHMENTS}]
            }
        )
    checked = [(upload, *validate_upload(upload)) for upload in uploads]
    machine = ticket_type.machine
    phase = machine.phase(machine.init)
    ttl = ticket_type.ttl_minutes or queue.ttl_minutes
    expires_at = now + timedelta(minutes=ttl) if ttl and machine.find(machine.init, "expire") else None

    try:
        with transaction.atomic(durable=True):
            from tenants.services import customer_upsert

            customer = customer_upsert(
                tenant=tenant,
                email=email,
                name=name,
                phone=phone,
                social_handle=social_handle,
                location=location,
                email_consent=email_consent if email else None,
            )
            changes = ChangeSet(tenant_id=tenant.pk, queue_id=queue.pk)
            with connection.cursor() as cursor:
                cursor.execute("SELECT nextval(%s)", [TICKET_SEQUENCE])
                (sequence,) = cursor.fetchone()
            turn, version = _lane_join(lane.pk, sequence) if phase == wf.WAITING else (None, None)
            ticket = Ticket(
                tenant=tenant,
                queue=queue,
                lane=lane,
                ticket_type=ticket_type,
                state=machine.init,
                phase=phase,
                reference=new_reference(),
                submission_token=submission_token,
                customer=customer,
                contact_name=(name or "").strip()[:200],
                contact_email=(email or "").strip().lower()[:254],
                contact_phone=(phone or "").strip()[:40],
                title=title[:200],
                need_text=need_text,
                custom_data=custom_data,
                tip_cents=tip_cents,
                currency=tenant.currency,
                email_consent=email_consent,
                turn_number=turn,
                lane_sequence=sequence,
                submitted_at=now,
                expires_at=expires_at,
                location=location,
                priority=priority,
                metadata=metadata or {},
            )
            ticket.save()
            if version is not None:
                changes.lane_change(lane_id=lane.pk, version=version, added=ticket.lane_sequence)
                changes.ticket_change(ticket, rank=_rank(ticket), version=version)
            _event(
                ticket,
                event="submit",
                from_state="",
                to_state=machine.init,
                actor=actor,
                note="",
                now=now,
                label="" if actor else "customer",
            )
            for upload, safe_name, content_type in checked:
                TicketAttachment.objects.create(
                    tenant=tenant,
                    ticket=ticket,
                    file=_renamed(upload, safe_name),
                    original_name=safe_name,
                    content_type=content_type,
                    size_bytes=upload.size,
                )
            _notify_team(ticket, now)
            changes.broadcast_on_commit()
    except IntegrityError:
        if submission_token:
            existing = Ticket.objects.filter(tenant=tenant, submission_token=submission_token).first()
            if existing is not None:
                return existing  # a concurrent double submit won the race; same ticket for both
        raise
    return ticket


def _renamed(upload: UploadedFile, name: str) -> UploadedFile:
    upload.name = name
    return upload


CUSTOMER_NOTICES = {
    "approve": (
        "ticket.approved",
        gettext_lazy("Your request was approved"),
        gettext_lazy("You are in line now."),
    ),
    "reject": ("ticket.rejected", gettext_lazy("Your request was not accepted"), ""),
}


def _apply(
    *,
    queue: Queue,
    ticket: Ticket,
    event: str,
    actor,
    note: str,
    now: datetime,
    changes: ChangeSet,
    actor_label: str = "",
    called_by_interleave: bool = False,
) -> Ticket:
    """Apply ``event`` to ``ticket`` inside the caller's transaction, with the queue row already locked."""
    machine = ticket.machine
    found = machine.find(ticket.state, event)
    if found is None:
        allowed = ", ".join(f"“{t.shown_label}”" for t in machine.allowed(ticket.state))
        raise InvalidTransition(
            gettext("“%(action)s” is not allowed for a ticket that is %(state)s (allowed: %(allowed)s).")
            % {
                "action": machine.transition_label(event),
                "state": ticket.state_label,
                "allowed": allowed or pgettext("allowed actions", "nothing"),
            }
        )
    if found.needs_reason and not note.strip():
        raise ValidationError(
            gettext("Please give a reason for “%(action)s”.") % {"action": found.shown_label},
            field_errors={"note": [gettext("A reason is required.")]},
        )
    from_state, from_phase = ticket.state, ticket.phase
    to_phase = machine.phase(found.target)
    try:
        ticket.apply_event(event)
    except django_fsm.TransitionNotAllowed as error:
        raise InvalidTransition(str(error)) from None
    ticket.phase = to_phase
    updated = ["state", "phase", "updated_at"]
    version = None
    if from_phase != wf.WAITING and to_phase == wf.WAITING:
        ticket.turn_number, version = _lane_join(ticket.lane_id, ticket.lane_sequence)
        updated.append("turn_number")
    elif from_phase == wf.WAITING and to_phase != wf.WAITING:
        called = ticket.turn_number if to_phase == wf.SERVING else None
        version = _lane_leave(ticket.lane_id, ticket.lane_sequence, called_turn=called)
        if to_phase == wf.SERVING and not called_by_interleave:
            lanes = list(
                Lane.objects.filter(queue=queue).order_by("display_order", "id").values_list("id", "weight")
            )
            queue.interleave_phase = positions.phase_after_serving(
                cycle=positions.build_cycle(lanes), phase=queue.interleave_phase, lane_id=ticket.lane_id
            )
            Queue.objects.filter(pk=queue.pk).update(interleave_phase=queue.interleave_phase)
    if from_phase == wf.PENDING and to_phase in (wf.WAITING, wf.SERVING) and ticket.approved_at is None:
        ticket.approved_at = now
        updated.append("approved_at")
    if to_phase == wf.SERVING and ticket.started_at is None:
        ticket.started_at = now
        updated.append("started_at")
    if to_phase == wf.DONE:
        ticket.completed_at = now
        ticket.resolved_at = ticket.resolved_at or now
        updated += ["completed_at", "resolved_at"]
    elif from_phase == wf.DONE:
        ticket.completed_at = None
        ticket.resolved_at = None
        updated += ["completed_at", "resolved_at"]
    try:
        ticket.save(update_fields=updated)
    except django_fsm.ConcurrentTransition:
        raise Conflict(str(ALREADY_CHANGED)) from None
    _event(
        ticket,
        event=event,
        from_state=from_state,
        to_state=ticket.state,
        actor=actor,
        note=note,
        now=now,
        label=actor_label,
    )
    if version is not None:
        if to_phase == wf.WAITING:
            changes.lane_change(lane_id=ticket.lane_id, version=version, added=ticket.lane_sequence)
        else:
            changes.lane_change(lane_id=ticket.lane_id, version=version, removed=ticket.lane_sequence)
    changes.ticket_change(
        ticket,
        rank=_rank(ticket) if to_phase == wf.WAITING else None,
        version=version,
        history=_history_line(ticket, now, event, from_state, ticket.state, note),
    )
    if to_phase == wf.DONE and from_phase == wf.SERVING:
        _refresh_service_stats(queue)
    ticket_moved.send(
        sender=Ticket, ticket=ticket, event=event, from_phase=from_phase, to_phase=to_phase, now=now
    )

    if event in CUSTOMER_NOTICES and from_phase == wf.PENDING:
        event_type, headline, body = CUSTOMER_NOTICES[event]
        _notify_customer(ticket, event_type, headline, note or body, now)
    elif from_phase in (wf.WAITING, wf.PENDING) and to_phase == wf.SERVING:
        _notify_customer(
            ticket,
            "ticket.called",
            gettext_lazy("It is your turn"),
            gettext_lazy("Please come forward now."),
            now,
        )
    elif to_phase == wf.DONE and from_phase != wf.DONE:
        _notify_customer(
            ticket,
            "ticket.completed",
            gettext_lazy("Your request is complete"),
            note or gettext_lazy("Thank you!"),
            now,
        )
    return ticket


def _history_line(ticket: Ticket, now: datetime, event: str, from_state: str, to_state: str, note: str):
    """The status page's history line for a transition (same words as the server-rendered list), in
    every language (watchers read it in theirs)."""
    from queues.live import in_each_language
    from queues.models import event_words

    machine, zone = ticket.machine, ticket.queue.time_zone

    def line() -> str:
        text = f"{format_zoned(now, zone)} — {event_words(event, machine)}"
        if to_state != from_state:
            text += f" → {machine.state_label(to_state)}"
        if note and event == "reject":
            text += f": {note}"
        return text

    return in_each_language(line)


def ticket_transition(
    *,
    tenant: Tenant,
    actor,
    ticket: Ticket,
    event: str,
    note: str = "",
    actor_label: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Apply workflow ``event`` to ``ticket`` (approve, reject, start, complete, … whatever its type allows).

    ``ticket`` should be the instance the actor looked at: if its state changed meanwhile, the optimistic
    check fails and Conflict is raised with nothing changed. Locks: the queue row, then the lane row when
    the ticket enters or leaves the line. Writes a TicketEvent; notifies the customer (approved, rejected,
    called, completed) through the outbox; broadcasts once on commit. Raises InvalidTransition when the
    workflow does not allow ``event`` now, ValidationError when a reason is required, NotFound for another
    tenant's ticket, Conflict on a concurrent change.
    """
    _check_tenant(tenant, ticket)
    now = _now(now)
    with transaction.atomic(durable=True):
        queue = _lock_queue(ticket.queue_id)
        _check_unchanged(ticket)
        changes = ChangeSet(tenant_id=tenant.pk, queue_id=queue.pk)
        _apply(
            queue=queue,
            ticket=ticket,
            event=event,
            actor=actor,
            note=note,
            now=now,
            changes=changes,
            actor_label=actor_label,
        )
        changes.broadcast_on_commit()
    return ticket


def ticket_approve(
    *, tenant: Tenant, actor, ticket: Ticket, note: str = "", now: datetime | None = None
) -> Ticket:
    """Shorthand for the ``approve`` event (see ticket_transition)."""
    return ticket_transition(tenant=tenant, actor=actor, ticket=ticket, event="approve", note=note, now=now)


def ticket_reject(
    *, tenant: Tenant, actor, ticket: Ticket, reason: str, now: datetime | None = None
) -> Ticket:
    """Shorthand for the ``reject`` event with its reason (see ticket_transition)."""
    return ticket_transition(tenant=tenant, actor=actor, ticket=ticket, event="reject", note=reason, now=now)


def ticket_call_next(*, tenant: Tenant, actor, queue: Queue, now: datetime | None = None) -> Ticket | None:
    """Serve the next ticket by the interleave: from the queue's phase, the first lane with someone
    waiting gives its head ticket, which takes the workflow's first transition into a serving state; the
    phase moves past that slot. Heads whose time-to-live has passed are expired on the way.

    Locks the queue row (two staff pressing "call next" at once call two different tickets), then the
    lane row. Returns the called ticket, or None when nobody is waiting. Broadcasts once on commit.
    """
    _check_tenant(tenant, queue)
    now = _now(now)
    with transaction.atomic(durable=True):
        queue = _lock_queue(queue.pk)
        changes = ChangeSet(tenant_id=tenant.pk, queue_id=queue.pk)
        called = None
        for _attempt in range(100):
            lanes = list(Lane.objects.filter(queue=queue).order_by("display_order", "id"))
            cycle = positions.build_cycle([(lane.pk, lane.weight) for lane in lanes])
            choice = positions.next_lane(
                cycle=cycle,
                phase=queue.interleave_phase,
                waiting={lane.pk: lane.waiting_count for lane in lanes},
            )
            if choice is None:
                break
            lane_id, next_phase = choice
            head = (
                Ticket.objects.select_related("ticket_type", "lane", "customer", "queue", "tenant")
                .filter(lane_id=lane_id, phase=wf.WAITING)
                .order_by("lane_sequence")
                .first()
            )
            if head is None:  # the counter drifted: repair it and look again
                Lane.objects.filter(pk=lane_id).update(waiting_count=0, version=F("version") + 1)
                LaneBlock.objects.filter(lane_id=lane_id).update(waiting=0)
                changes.lane_change(lane_id=lane_id, version=Lane.objects.get(pk=lane_id).version)
                continue
            if head.is_expired(now) and head.machine.find(head.state, "expire"):
                _apply(
                    queue=queue,
                    ticket=head,
                    event="expire",
                    actor=None,
                    note="",
                    now=now,
                    changes=changes,
                    actor_label="system",
                )
                continue
            serve = head.machine.first_into(head.state, wf.SERVING)
            if serve is None:
                raise InvalidTransition(
                    gettext("Tickets that are %(state)s cannot be called in this workflow.")
                    % {"state": head.state_label}
                )
            queue.interleave_phase = next_phase
            Queue.objects.filter(pk=queue.pk).update(interleave_phase=next_phase)
            called = _apply(
                queue=queue,
                ticket=head,
                event=serve.name,
                actor=actor,
                note="",
                now=now,
                changes=changes,
                called_by_interleave=True,
            )
            break
        changes.broadcast_on_commit()
    return called


def ticket_change_lane(
    *, tenant: Tenant, actor, ticket: Ticket, lane: Lane, note: str = "", now: datetime | None = None
) -> Ticket:
    """Move ``ticket`` to another lane of its queue; it keeps its submission order (lane sequence) and, if
    waiting, gets a new turn number there. Locks the queue row, then both lane rows in id order.
    Raises ValidationError for a lane of another queue, Conflict if the ticket changed meanwhile."""
    _check_tenant(tenant, ticket, lane)
    if lane.queue_id != ticket.queue_id:
        raise ValidationError(field_errors={"lane": [gettext("Choose a lane of the same queue.")]})
    if lane.pk == ticket.lane_id:
        return ticket
    now = _now(now)
    with transaction.atomic(durable=True):
        queue = _lock_queue(ticket.queue_id)
        _check_unchanged(ticket)
        changes = ChangeSet(tenant_id=tenant.pk, queue_id=queue.pk)
        old_lane_id = ticket.lane_id
        updated = ["lane", "updated_at"]
        if ticket.phase == wf.WAITING:
            versions = {}
            for lane_id in sorted([old_lane_id, lane.pk]):
                if lane_id == old_lane_id:
                    versions[lane_id] = _lane_leave(lane_id, ticket.lane_sequence, called_turn=None)
                else:
                    versions[lane_id] = _lane_join(lane_id, ticket.lane_sequence)
            turn, new_version = versions[lane.pk]
            ticket.turn_number = turn
            updated.append("turn_number")
            changes.lane_change(
                lane_id=old_lane_id, version=versions[old_lane_id], removed=ticket.lane_sequence
            )
            changes.lane_change(lane_id=lane.pk, version=new_version, added=ticket.lane_sequence)
        else:
            new_version = None
        ticket.lane = lane
        try:
            ticket.save(update_fields=updated)
        except django_fsm.ConcurrentTransition:
            raise Conflict() from None
        _event(
            ticket,
            event="change_lane",
            from_state=ticket.state,
            to_state=ticket.state,
            actor=actor,
            note=note or gettext("Moved to %(lane)s") % {"lane": lane.name},
            now=now,
        )
        rank = _rank(ticket) if ticket.phase == wf.WAITING else None
        changes.ticket_change(ticket, rank=rank, version=new_version)
        changes.broadcast_on_commit()
    return ticket


def ticket_assign(*, tenant: Tenant, actor, ticket: Ticket, assignee, now: datetime | None = None) -> Ticket:
    """Assign ``ticket`` to a member of the tenant (or nobody). Raises ValidationError for a non-member.

    ``ticket.assignee_id`` is the assignee the actor saw: the ticket row is locked (``FOR UPDATE``) and if
    the assignee changed meanwhile (two staff assigning at once) Conflict is raised and nothing changes.
    Writes an "assign" event."""
    _check_tenant(tenant, ticket)
    if assignee is not None and not Membership.objects.filter(tenant=tenant, user=assignee).exists():
        raise ValidationError(field_errors={"assignee": [gettext("Assign to a member of this team.")]})
    now = _now(now)
    with transaction.atomic(durable=True):
        current = (
            Ticket.objects.select_for_update(of=("self",))
            .filter(pk=ticket.pk)
            .values_list("assignee_id", flat=True)
            .first()
        )
        if current != ticket.assignee_id:
            raise Conflict(
                gettext("Someone else assigned this ticket at the same moment; nothing was changed.")
            )
        Ticket.objects.filter(pk=ticket.pk).update(assignee=assignee, updated_at=now)
        ticket.assignee = assignee
        _event(
            ticket,
            event="assign",
            from_state=ticket.state,
            to_state=ticket.state,
            actor=actor,
            note=gettext("Assigned to %(name)s") % {"name": assignee.get_full_name()}
            if assignee
            else gettext("Unassigned"),
            now=now,
        )
        ChangeSet(tenant_id=tenant.pk, queue_id=ticket.queue_id).broadcast_on_commit()
    return ticket


def ticket_comment_add(
    *,
    tenant: Tenant,
    ticket: Ticket,
    body: str,
    actor=None,
    customer=None,
    is_internal: bool = False,
    attachments: Iterable[UploadedFile] = (),
    now: datetime | None = None,
) -> TicketComment:
    """Add a comment by a member (``actor``) or by the ticket's customer. Customers cannot write internal
    comments. Attachments are checked like on submission. No locks."""
    _check_tenant(tenant, ticket)
    if not body.strip():
        raise ValidationError(field_errors={"body": [gettext("Write something first.")]})
    if customer is not None and (customer.tenant_id != tenant.pk or is_internal):
        raise PermissionDenied()
    checked = [(upload, *validate_upload(upload)) for upload in attachments]
    with transaction.atomic(durable=True):
        comment = TicketComment.objects.create(
            tenant=tenant,
            ticket=ticket,
            author_user=actor if getattr(actor, "is_authenticated", False) else None,
            author_customer=customer,
            body=body,
            is_internal=is_internal,
        )
        kinds.comment_added(comment)  # the queue kind's handlers (queues.kinds)
        for upload, safe_name, content_type in checked:
            TicketAttachment.objects.create(
                tenant=tenant,
                ticket=ticket,
                comment=comment,
                file=_renamed(upload, safe_name),
                original_name=safe_name,
                content_type=content_type,
                size_bytes=upload.size,
            )
    return comment


def ticket_comment_edit(
    *, tenant: Tenant, actor, comment: TicketComment, body: str, now: datetime | None = None
):
    """Edit a member's own comment, keeping the earlier text in ``edit_history``. Locks the comment row."""
    _check_tenant(tenant, comment)
    now = _now(now)
    with transaction.atomic(durable=True):
        locked = TicketComment.objects.select_for_update().get(pk=comment.pk)
        if locked.author_user_id != getattr(actor, "pk", None):
            raise PermissionDenied(gettext("You can only edit your own comments."))
        locked.edit_history = [*locked.edit_history, {"body": locked.body, "until": now.isoformat()}]
        locked.body = body
        locked.edited_at = now
        locked.save(update_fields=["body", "edit_history", "edited_at", "updated_at"])
    return locked


def tickets_expire_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Expire tickets whose time-to-live has passed (beat task). Each in its own transaction through
    ticket_transition; idempotent and safe to run concurrently (a ticket already moved is skipped)."""
    now = _now(now)
    due = list(
        Ticket.objects.filter(phase__in=[wf.PENDING, wf.WAITING], expires_at__lt=now)
        .select_related("ticket_type", "tenant", "lane", "queue", "customer")
        .order_by("expires_at")[:limit]
    )
    expired = 0
    for ticket in due:
        if ticket.machine.find(ticket.state, "expire") is None:
            continue
        try:
            ticket_transition(
                tenant=ticket.tenant,
                actor=None,
                ticket=ticket,
                event="expire",
                actor_label="system",
                note=gettext("Waited longer than the queue's time limit."),
                now=now,
            )
            expired += 1
        except (Conflict, InvalidTransition):
            continue
    return expired
