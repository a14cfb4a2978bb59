"""A customer's data-rights request to one tenant, made by following a link sent to their address.

A row exists only once the address was proven (the signed link was opened and confirmed), so nobody can
file requests in someone else's name. One open request per tenant, address and kind (partial unique
index). Withdrawing consent needs no staff and is ``completed`` at once; an export or an erasure waits
for the team (``pending``) and ends ``completed`` or ``rejected``. After an erasure the address itself
is erased from the request too; ``email_hash`` keeps the record that it was done.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import TenantOwned


class RequestKind(models.TextChoices):
    EXPORT = "export", _("Export of my data")
    DELETE = "delete", _("Deletion of my data")
    WITHDRAW_CONSENT = "withdraw_consent", _("Stop emails (withdraw consent)")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the team")
    COMPLETED = "completed", _("Done")
    REJECTED = "rejected", _("Rejected")


class DataRequest(TenantOwned):
    email = models.EmailField(blank=True)
    email_hash = models.CharField(max_length=64)
    kind = models.CharField(max_length=20, choices=RequestKind.choices)
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    verified_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    processed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True, help_text=_("Why it was rejected, or what was done."))
    export_data = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-verified_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "email_hash", "kind"],
                condition=Q(status="pending"),
                name="datarequest_one_open_per_kind",
            ),
            models.CheckConstraint(condition=Q(kind__in=RequestKind.values), name="datarequest_kind_valid"),
            models.CheckConstraint(
                condition=Q(status__in=RequestStatus.values), name="datarequest_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(processed_at__isnull=False),
                name="datarequest_processed_has_time",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "status"], name="datarequest_tenant_status")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.email or '(erased)'} · {self.status}"
