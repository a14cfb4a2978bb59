from django.utils.functional import SimpleLazyObject

from tenants.selectors import memberships_for


def memberships(request):
    """Lazily: the signed-in user's memberships (tenant switcher) and the dashboard's section links."""
    user = getattr(request, "user", None)
    if user is None:
        return {}
    tenant = getattr(request, "tenant", None)

    def nav():
        from tenants.views import dashboard_nav

        return dashboard_nav(tenant) if tenant is not None else []

    return {
        "my_memberships": SimpleLazyObject(lambda: list(memberships_for(user))),
        "current_tenant": tenant,
        "dashboard_nav": SimpleLazyObject(nav),
    }
