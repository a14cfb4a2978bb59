"""``{% branding_head %}`` and ``{% branding_logo %}`` in the base layout: a tenant's public pages (any
page whose context has ``tenant``, outside the dashboard, the admin and the account pages) get the
tenant's stylesheet (``/<slug>/brand.css``: the accent as the ``--brand`` custom property, no inline
style) and logo. They read only the tenant row the page already loaded: no query."""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext

from branding.contrast import accent_is_readable

register = template.Library()

NOT_PUBLIC = ("/dashboard/", "/admin/", "/accounts/")


def public_tenant(context):
    tenant = context.get("tenant")
    request = context.get("request")
    if tenant is None or not getattr(tenant, "slug", None) or request is None:
        return None
    if request.path.startswith(NOT_PUBLIC):
        return None
    return tenant


def stylesheet_version(tenant) -> str:
    return f"{tenant.brand_colour.lstrip('#').lower()}-{tenant.brand_logo_version}"


@register.simple_tag(takes_context=True)
def branding_head(context):
    tenant = public_tenant(context)
    if tenant is None or not accent_is_readable(tenant.brand_colour.lower()):
        return ""
    url = reverse("branding_public:stylesheet", kwargs={"tenant_slug": tenant.slug})
    return format_html('<link rel="stylesheet" href="{}?v={}">', url, stylesheet_version(tenant))


@register.simple_tag(takes_context=True)
def branding_logo(context):
    tenant = public_tenant(context)
    if tenant is None or not tenant.brand_logo_version:
        return ""
    url = reverse("branding_public:logo", kwargs={"tenant_slug": tenant.slug})
    return format_html(
        '<a class="tenant-logo-link" href="{}"><img class="tenant-logo" src="{}?v={}" alt="{}"></a>',
        reverse("tenant_home", kwargs={"tenant_slug": tenant.slug}),
        url,
        tenant.brand_logo_version,
        gettext("%(tenant)s home") % {"tenant": tenant.name},
    )
