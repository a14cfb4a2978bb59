"""API keys and idempotency records.

An API key belongs to one tenant and carries scopes. Only a SHA-256 of the secret is stored (the secret
has 256 bits of randomness, so a fast hash is enough and lets the key be found by an index lookup); the
secret is shown once, when the key is created. A revoked key stays for the record and never
authenticates again.

An idempotency record remembers the first response to a POST carrying an ``Idempotency-Key`` for one
principal (a key, a signed-in member, or an anonymous client address), with a fingerprint of the request
so the same key with another body is refused instead of replayed.
"""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import TenantOwned


class Scope(models.TextChoices):
    READ = "read", _("Read (every GET)")
    WRITE = "write", _("Write (submit, transitions, checkout, orders, waiting room, waitlists, help desk)")
    CHECK_IN = "check_in", _("Check-in (scan tickets at the door)")


class ApiKey(TenantOwned):
    name = models.CharField(max_length=100, help_text=_("What uses this key (box office, kiosk, CRM …)."))
    prefix = models.CharField(max_length=16, unique=True, help_text=_("Public part, shown in lists."))
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = ArrayField(models.CharField(max_length=20, choices=Scope.choices))
    created_by = models.ForeignKey(
        "tenants.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "tenants.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="api_key_tenant_created")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(scopes=[]), name="api_key_has_scope"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def shown_prefix(self) -> str:
        """How lists show the key: its public start, the secret left out."""
        return f"vq_{self.prefix}_…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    principal = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    response_body = models.BinaryField(default=b"")
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_principal_key_unique")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.principal} {self.key}"
