"""``{% reference_lookup_form %}``: the not-found page's lookup. Under a tenant's address it is that
tenant's lookup (requests, orders and tickets: ``tenants.lookup``); elsewhere the request status lookup."""

from django import template
from django.urls import reverse

register = template.Library()


@register.inclusion_tag("tenants/_reference_lookup_form.html", takes_context=True)
def reference_lookup_form(context, label=""):
    from tenants.models import Tenant

    request = context.get("request")
    slug = (request.path.strip("/").split("/") or [""])[0] if request is not None else ""
    tenant = Tenant.objects.filter(slug=slug).first() if slug and len(slug) <= 80 else None
    if tenant is not None:
        action = reverse("tenant_lookup", kwargs={"tenant_slug": tenant.slug})
    else:
        action = reverse("queues:status_lookup")
    return {"tenant": tenant, "action": action, "value": context.get("value", "")}
