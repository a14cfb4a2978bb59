"""A tenant's logo, kept in the database next to the tenant (small images only, see
``branding.services.LOGO_MAX_BYTES``), so every web process serves it without shared file storage.

The accent colour and the intro live on ``tenants.Tenant`` (``brand_colour``, ``brand_intro``) with
``brand_logo_version``, so public pages render the branding from the tenant row they already loaded.
"""

from django.db import models
from django.db.models import Q

from core.models import TimeStamped


class LogoType(models.TextChoices):
    PNG = "image/png", "PNG"
    JPEG = "image/jpeg", "JPEG"
    GIF = "image/gif", "GIF"
    WEBP = "image/webp", "WebP"


class TenantLogo(TimeStamped):
    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="logo")
    content_type = models.CharField(max_length=20, choices=LogoType.choices)
    data = models.BinaryField()
    size_bytes = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__in=LogoType.values), name="tenantlogo_type_valid"
            ),
            models.CheckConstraint(condition=Q(size_bytes__gte=1), name="tenantlogo_not_empty"),
        ]

    def __str__(self) -> str:
        return f"Logo of tenant {self.tenant_id} ({self.content_type}, {self.size_bytes} bytes)"
