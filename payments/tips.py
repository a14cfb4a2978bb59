"""Priority-lane tips: authorised when the fan submits, captured when the creator approves (or when the
request is completed — the creator's choice, ``TenantPaymentSettings.tip_capture_on``), voided when the
request is rejected, expires or is withdrawn.

Providers: Stripe (a PaymentIntent with ``capture_method=manual``, confirmed with the card the Payment
Element turned into a PaymentMethod) for tenants with Stripe keys, else the built-in test card (no
money moves; the same states are recorded). Order of work on submission: authorise (network, no
transaction) → ``ticket_submit`` → attach the payment to the ticket. If the submission fails, the
authorisation is voided; an authorisation never attached (the process died in between) is voided by
the settle task after ``ORPHAN_MINUTES``.

Capture and void are decided inside the ticket's transition (the ``queues.signals.ticket_moved``
receiver below, payment row locked after the queue row) and carried out after commit
(``payments.settle``), retried by the beat task until Stripe confirms. The board shows each request's
money state (``tip_states``).
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime, timedelta

import stripe
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from core.errors import Busy, DomainError
from payments.gateway import STRIPE, UNREACHABLE, card_details, client_for, stripe_credentials
from payments.models import Payment, PaymentPurpose, PaymentStatus, TenantPaymentSettings
from payments.settle import settle_locked
from queues import workflow as wf
from queues.models import Ticket
from queues.signals import ticket_moved
from ticketing.payments import DECLINING_TEST_CARD, PaymentDeclined, luhn_ok

logger = logging.getLogger(__name__)

TEST_CARD = "test_card"
ORPHAN_MINUTES = 30


def tip_provider_for(tenant) -> str:
    return STRIPE if stripe_credentials(tenant) is not None else TEST_CARD


def _capture_on(tenant) -> str:
    settings_row = TenantPaymentSettings.objects.filter(tenant=tenant).only("tip_capture_on").first()
    return settings_row.tip_capture_on if settings_row else "approve"


def tip_authorise(
    *,
    tenant,
    amount_cents: int,
    currency: str,
    payment_method: str = "",
    card_number: str = "",
    now: datetime | None = None,
) -> Payment:
    """Hold ``amount_cents`` on the fan's card. Raises PaymentDeclined (field ``card``), Busy (Stripe
    did not answer). No lock; no transaction open during the provider call."""
    now = now or timezone.now()
    provider = tip_provider_for(tenant)
    if provider == STRIPE and not payment_method:
        raise PaymentDeclined(
            _("Enter your card details."), field_errors={"card": [_("Enter your card details.")]}
        )
    if provider == TEST_CARD:
        number = re.sub(r"[\s-]", "", card_number or "")
        if not re.fullmatch(r"\d{12,19}", number) or not luhn_ok(number):
            raise PaymentDeclined(
                _("Check the card number."), field_errors={"card": [_("This is not a valid card number.")]}
            )
        if number == DECLINING_TEST_CARD:
            raise PaymentDeclined(field_errors={"card": [_("The card was declined.")]})
    with transaction.atomic(durable=True):
        payment = Payment.objects.create(
            tenant=tenant,
            purpose=PaymentPurpose.TIP,
            provider=provider,
            amount_cents=amount_cents,
            currency=currency,
            capture_on=_capture_on(tenant),
        )
    if provider == TEST_CARD:
        Payment.objects.filter(pk=payment.pk).update(
            status=PaymentStatus.AUTHORISED,
            reference=f"test_auth_{secrets.token_hex(8)}",
            card_last4=number[-4:],
        )
        payment.refresh_from_db()
        return payment
    try:
        intent = client_for(tenant).v1.payment_intents.create(
            params={
                "amount": amount_cents,
                "currency": currency.lower(),
                "capture_method": "manual",
                "confirm": True,
                "payment_method": payment_method,
                "payment_method_types": ["card"],
                "metadata": {"vq_tenant": str(tenant.pk), "vq_payment": str(payment.pk), "vq_purpose": "tip"},
            },
            options={"idempotency_key": f"vq-tip-{payment.pk}"},
        )
    except stripe.CardError as error:
        message = error.user_message or _("Your card was declined.")
        Payment.objects.filter(pk=payment.pk).update(
            status=PaymentStatus.FAILED, failure_message=message[:300]
        )
        raise PaymentDeclined(
            _("%(reason)s Nothing was sent.") % {"reason": message}, field_errors={"card": [message]}
        ) from None
    except stripe.StripeError as error:
        Payment.objects.filter(pk=payment.pk).update(
            status=PaymentStatus.FAILED, failure_message=gettext_noop("The card processor did not answer.")
        )
        raise Busy(str(UNREACHABLE)) from error
    if intent.status != "requires_capture":
        # 3-D Secure or anything else we cannot finish inside a form post: hold nothing.
        Payment.objects.filter(pk=payment.pk).update(reference=intent.id, pending_action="void")
        settle_locked(payment_id=payment.pk)
        raise PaymentDeclined(
            _("Your bank wants an extra check we cannot do here; try another card. Nothing was charged."),
            field_errors={"card": [_("Try another card.")]},
        )
    brand, last4 = card_details(intent.to_dict())
    Payment.objects.filter(pk=payment.pk).update(
        status=PaymentStatus.AUTHORISED, reference=intent.id, card_brand=brand, card_last4=last4
    )
    payment.refresh_from_db()
    return payment


def ticket_submit_with_tip(
    *,
    tenant,
    queue,
    lane,
    tip_cents: int = 0,
    payment_method: str = "",
    card_number: str = "",
    submission_token: str = "",
    now: datetime | None = None,
    **fields,
) -> Ticket:
    """``queues.services.ticket_submit`` with the tip authorised first (see the module docstring).
    A tip of 0 authorises nothing. A double submit (same ``submission_token``) returns the first ticket
    and authorises nothing more. Raises what ``ticket_submit`` raises, plus PaymentDeclined / Busy."""
    from queues.services import ticket_submit

    if not tip_cents:
        return ticket_submit(
            tenant=tenant, queue=queue, lane=lane, submission_token=submission_token, now=now, **fields
        )
    if submission_token:
        existing = Ticket.objects.filter(tenant=tenant, submission_token=submission_token).first()
        if existing is not None:
            return existing
    if tip_cents < lane.minimum_tip_cents or not queue.enabled or not lane.enabled:
        # Let the service give its usual error before any card is touched.
        return ticket_submit(
            tenant=tenant,
            queue=queue,
            lane=lane,
            tip_cents=tip_cents,
            submission_token=submission_token,
            now=now,
            **fields,
        )
    payment = tip_authorise(
        tenant=tenant,
        amount_cents=tip_cents,
        currency=tenant.currency,
        payment_method=payment_method,
        card_number=card_number,
        now=now,
    )
    try:
        ticket = ticket_submit(
            tenant=tenant,
            queue=queue,
            lane=lane,
            tip_cents=tip_cents,
            submission_token=submission_token,
            now=now,
            **fields,
        )
    except BaseException:
        tip_void_unattached(payment_id=payment.pk)
        raise
    tip_attach(payment_id=payment.pk, ticket=ticket)
    return ticket


def tip_void_unattached(*, payment_id: int) -> None:
    with transaction.atomic(durable=True):
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.ticket_id is None and payment.status == PaymentStatus.AUTHORISED:
            payment.pending_action = "void"
            payment.save(update_fields=["pending_action", "updated_at"])
    _settle_quietly(payment_id)


def _action_for(capture_on: str, from_phase: str, to_phase: str) -> str:
    if to_phase == wf.CANCELLED:
        return "void"
    if capture_on == "complete":
        return "capture" if to_phase == wf.DONE else ""
    if from_phase == wf.PENDING and to_phase in (wf.WAITING, wf.SERVING, wf.DONE):
        return "capture"
    if to_phase == wf.DONE:
        return "capture"  # approved before the tip was attached, or a workflow without review
    return ""


def tip_attach(*, payment_id: int, ticket: Ticket) -> Payment:
    """Link an authorised tip to its ticket (after ``ticket_submit`` committed). If the ticket already
    has a tip (a concurrent double submit), this one is voided. If the ticket moved on meanwhile
    (approved, rejected in the blink of an eye), the owed capture/void is decided now."""
    with transaction.atomic(durable=True):
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.ticket_id is not None:
            return payment
        if Payment.objects.filter(ticket=ticket, purpose=PaymentPurpose.TIP).exclude(pk=payment.pk).exists():
            payment.pending_action = "void"
        else:
            payment.ticket = ticket
            phase = Ticket.objects.values_list("phase", flat=True).get(pk=ticket.pk)
            if phase != wf.PENDING:
                payment.pending_action = _action_for(payment.capture_on, wf.PENDING, phase)
        payment.save()
        if payment.pending_action:
            transaction.on_commit(lambda: _settle_quietly(payment_id))
    return payment


@receiver(ticket_moved, dispatch_uid="payments.tips.on_ticket_moved")
def on_ticket_moved(sender, *, ticket, event, from_phase, to_phase, now=None, **kwargs) -> None:
    """Inside the transition's transaction: decide the tip's capture or void, carry it out on commit."""
    if not ticket.tip_cents:
        return
    payment = (
        Payment.objects.select_for_update()
        .filter(ticket=ticket, purpose=PaymentPurpose.TIP, status=PaymentStatus.AUTHORISED, pending_action="")
        .first()
    )
    if payment is None:
        return
    action = _action_for(payment.capture_on, from_phase, to_phase)
    if not action:
        return
    payment.pending_action = action
    payment.save(update_fields=["pending_action", "updated_at"])
    payment_id = payment.pk
    transaction.on_commit(lambda: _settle_quietly(payment_id))


def _settle_quietly(payment_id: int) -> None:
    try:
        settle_locked(payment_id=payment_id)
    except DomainError as error:
        logger.info("tip payment %s not settled yet (%s); the settle task retries", payment_id, error.message)


def tips_void_orphans(*, now: datetime | None = None) -> int:
    """Beat: void authorisations whose ticket never got saved (the process died between the two)."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=ORPHAN_MINUTES)
    orphans = Payment.objects.filter(
        purpose=PaymentPurpose.TIP,
        status=PaymentStatus.AUTHORISED,
        ticket__isnull=True,
        pending_action="",
        created_at__lt=cutoff,
    )
    count = 0
    for payment_id in orphans.values_list("pk", flat=True)[:200]:
        tip_void_unattached(payment_id=payment_id)
        count += 1
    return count


STATE_LABELS = {
    PaymentStatus.PENDING: gettext_lazy("tip pending"),
    PaymentStatus.AUTHORISED: gettext_lazy("tip authorised"),
    PaymentStatus.SUCCEEDED: gettext_lazy("tip captured"),
    PaymentStatus.VOIDED: gettext_lazy("tip voided"),
    PaymentStatus.FAILED: gettext_lazy("tip failed"),
    PaymentStatus.REFUNDED: gettext_lazy("tip refunded"),
}


def tip_states(tickets) -> None:
    """Set ``ticket.tip_state`` (a short label, with "capturing…"/"voiding…" while owed) on each of
    ``tickets`` — one query for the whole board."""
    tickets = list(tickets)
    # Main-line entries are plain values without tip_cents: look them up too (a tip row says it all).
    by_id = {ticket.pk: ticket for ticket in tickets if getattr(ticket, "tip_cents", 1)}
    for ticket in tickets:
        ticket.tip_state = ""
        ticket.tip_state_kind = ""
    if not by_id:
        return
    rows = Payment.objects.filter(ticket_id__in=list(by_id), purpose=PaymentPurpose.TIP).order_by(
        "created_at"
    )
    for payment in rows.only("ticket_id", "status", "pending_action"):
        ticket = by_id[payment.ticket_id]
        if payment.pending_action:
            ticket.tip_state = {"capture": _("tip capturing…"), "void": _("tip voiding…")}.get(
                payment.pending_action, _("tip settling…")
            )
            ticket.tip_state_kind = "warn"
        else:
            ticket.tip_state = STATE_LABELS.get(payment.status, payment.status)
            ticket.tip_state_kind = {
                PaymentStatus.SUCCEEDED: "ok",
                PaymentStatus.AUTHORISED: "",
            }.get(payment.status, "bad")
