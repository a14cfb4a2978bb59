from tenants.models import Membership, Tenant


def public_tenants():
    return Tenant.objects.filter(is_public=True).order_by("name")


def memberships_for(user):
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("tenant").order_by("tenant__name")
