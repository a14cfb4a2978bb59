"""Money records: tenants' provider settings, payments (order charges and priority-lane tips), refunds,
processed webhook events, receipts.

Invariants the database holds: one payment per provider reference; amounts are never negative and a
payment never has more captured or refunded than it took; receipt numbers are unique and sequential per
tenant (``ReceiptCounter`` is the gapless counter, advanced by one UPDATE in the transaction that makes
the order paid); a webhook event id is processed once.

Only ``payments`` and ``ticketing.payments`` services write these rows.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.models import TenantOwned, TimeStamped
from payments import crypto


class TenantPaymentSettings(TimeStamped):
    """A tenant's own Stripe account and the details printed on its receipts. The secret key and the
    webhook signing secret are stored encrypted (``payments.crypto``); only masks are ever shown."""

    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="payment_settings")
    stripe_publishable_key = models.CharField(max_length=200, blank=True)
    stripe_secret_key_encrypted = models.TextField(blank=True, editable=False)
    stripe_secret_key_mask = models.CharField(max_length=40, blank=True, editable=False)
    stripe_webhook_secret_encrypted = models.TextField(blank=True, editable=False)
    stripe_webhook_secret_mask = models.CharField(max_length=40, blank=True, editable=False)
    legal_name = models.CharField(max_length=200, blank=True, help_text=_("Printed on receipts."))
    address = models.TextField(blank=True, help_text=_("Printed on receipts."))
    tax_id = models.CharField(max_length=60, blank=True, help_text=_("VAT / tax number printed on receipts."))
    tip_capture_on = models.CharField(
        max_length=10,
        choices=[
            ("approve", _("When I approve the request")),
            ("complete", _("When I complete the request")),
        ],
        default="approve",
        help_text=_("When a priority tip authorised at submission is charged."),
    )

    def __str__(self) -> str:
        return f"Payment settings of {self.tenant}"

    @property
    def stripe_secret_key(self) -> str:
        return crypto.decrypt(self.stripe_secret_key_encrypted)

    @property
    def stripe_webhook_secret(self) -> str:
        return crypto.decrypt(self.stripe_webhook_secret_encrypted)

    @property
    def has_stripe(self) -> bool:
        return bool(self.stripe_secret_key_encrypted and self.stripe_publishable_key)


class PaymentPurpose(models.TextChoices):
    ORDER = "order", _("Ticket order")
    TIP = "tip", _("Priority tip")


class PaymentStatus(models.TextChoices):
    PENDING = (
        "pending",
        pgettext_lazy("payment status", "Pending"),
    )  # created at the provider, not confirmed yet (processing / 3-D Secure)
    AUTHORISED = (
        "authorised",
        pgettext_lazy("payment status", "Authorised"),
    )  # tips: money held, not taken yet
    SUCCEEDED = "succeeded", pgettext_lazy("payment status", "Paid")  # taken (orders) / captured (tips)
    FAILED = "failed", pgettext_lazy("payment status", "Failed")
    VOIDED = "voided", pgettext_lazy("payment status", "Voided")  # authorisation released, nothing taken
    REFUNDED = "refunded", pgettext_lazy("payment status", "Refunded")  # taken and given back in full


class Payment(TenantOwned):
    """One attempt to take money through a provider (a Stripe PaymentIntent, a test-card charge)."""

    purpose = models.CharField(max_length=10, choices=PaymentPurpose.choices)
    provider = models.CharField(max_length=20)
    reference = models.CharField(max_length=100, blank=True, help_text=_("Provider's id (pi_… for Stripe)."))
    status = models.CharField(max_length=12, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    amount_cents = models.PositiveIntegerField()
    captured_cents = models.PositiveIntegerField(default=0)
    refunded_cents = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3)
    session = models.ForeignKey(
        "ticketing.CheckoutSession", null=True, blank=True, on_delete=models.SET_NULL, related_name="payments"
    )
    order = models.ForeignKey(
        "ticketing.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="payments"
    )
    ticket = models.ForeignKey(
        "queues.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="tip_payments"
    )
    # What to do with a tip once it is authorised: capture when the ticket reaches this phase change.
    capture_on = models.CharField(max_length=10, blank=True)
    # A settle step (capture/void/refund of a duplicate) the provider has not acknowledged yet; the
    # beat task retries it. Empty when nothing is owed.
    pending_action = models.CharField(max_length=10, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    late_outcome = models.CharField(
        max_length=20, blank=True, help_text=_("What a success after the hold expired did: sold / refunded.")
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "reference"],
                condition=~Q(reference=""),
                name="payment_provider_reference",
            ),
            models.CheckConstraint(
                condition=Q(captured_cents__lte=F("amount_cents")), name="payment_captured_le_amount"
            ),
            models.CheckConstraint(
                condition=Q(refunded_cents__lte=F("captured_cents")), name="payment_refunded_le_captured"
            ),
        ]
        indexes = [
            models.Index(fields=["pending_action"], condition=~Q(pending_action=""), name="payment_pending"),
            models.Index(fields=["ticket"], name="payment_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.reference or self.pk} ({self.status})"

    @property
    def method_label(self) -> str:
        from django.utils.translation import gettext

        if self.card_last4:
            brand = (self.card_brand or gettext("card")).title()
            return gettext("%(brand)s ending %(last4)s") % {"brand": brand, "last4": self.card_last4}
        labels = {"stripe": gettext("Card (Stripe)"), "test_card": gettext("Card (test mode)")}
        return labels.get(self.provider, self.provider)


class RefundStatus(models.TextChoices):
    PENDING = (
        "pending",
        pgettext_lazy("refund status", "Pending"),
    )  # recorded, tickets cancelled, the provider call is still owed
    SUCCEEDED = "succeeded", pgettext_lazy("refund status", "Refunded")
    FAILED = "failed", _("Failed (retrying)")


class Refund(TenantOwned):
    """Money given back for an order (whole or some tickets). Written, with the tickets cancelled and
    the seats returned, in one transaction; the provider call follows (idempotency key ``refund-<id>``)
    and is retried by the beat task until the provider confirms."""

    order = models.ForeignKey("ticketing.Order", on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    reference = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    requested_by = models.CharField(max_length=20, default="staff")  # staff | buyer | event_cancelled
    actor = models.ForeignKey(
        "tenants.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tickets = models.ManyToManyField("ticketing.IssuedTicket", related_name="refunds", blank=True)
    attempts = models.PositiveIntegerField(default=0)
    failure_message = models.CharField(max_length=300, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gte=0), name="refund_amount_positive")
        ]
        indexes = [models.Index(fields=["status"], condition=~Q(status="succeeded"), name="refund_unsettled")]

    def __str__(self) -> str:
        return f"Refund {self.pk} of {self.order_id} ({self.status})"


class WebhookEvent(models.Model):
    """A provider event we accepted (signature verified). The unique id makes a replay a no-op."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.type} {self.event_id}"


class ReceiptCounter(models.Model):
    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.last_number}"


class Receipt(TenantOwned):
    """The numbered receipt of a paid order (one per order, numbers 1, 2, 3 … per tenant)."""

    order = models.OneToOneField("ticketing.Order", on_delete=models.PROTECT, related_name="receipt")
    number = models.PositiveIntegerField()
    issued_at = models.DateTimeField()

    class Meta:
        ordering = ["tenant", "number"]
        constraints = [models.UniqueConstraint(fields=["tenant", "number"], name="receipt_tenant_number")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"R-{self.number:06d}"


class EventRefundPolicy(TenantOwned):
    """Whether buyers may refund their own tickets, and until when (set by the promoter)."""

    event = models.OneToOneField("ticketing.Event", on_delete=models.CASCADE, related_name="refund_policy")
    buyer_refunds_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Buyers can refund their own tickets until this time. Empty: never."),
    )

    def __str__(self) -> str:
        return f"Refund policy of {self.event_id}"

    def buyer_may_refund(self, now) -> bool:
        return self.buyer_refunds_until is not None and now < self.buyer_refunds_until
