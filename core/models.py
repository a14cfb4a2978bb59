"""Base models shared by all apps.

Tenancy rule: every tenant-owned model inherits ``TenantOwned``. Reads in views go through
``Model.objects.for_tenant(tenant)`` or ``core.tenancy.get_for_tenant``; an object of another tenant is
indistinguishable from one that does not exist (NotFound → 404).
"""

from django.db import models


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class TenantQuerySet(models.QuerySet):
    def for_tenant(self, tenant):
        if tenant is None:
            raise ValueError("for_tenant() needs a tenant; use .unscoped() on purpose for operator code")
        return self.filter(tenant=tenant)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    pass


class TenantOwned(TimeStamped):
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()

    class Meta:
        abstract = True
