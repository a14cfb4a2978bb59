"""Help-desk sections: support queues on the tenant's public page; the member's inbox counts on the
dashboard home (only the queues in their scope)."""

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from support import selectors
from tenants.models import Membership

DASHBOARD_NAV = [(_("Help desk"), "support:inbox")]


def public_section(request, tenant) -> str:
    queues = list(selectors.listed_help_desks(tenant))
    if not queues:
        return ""
    return render_to_string(
        "support/_public_section.html", {"queues": queues, "tenant": tenant}, request=request
    )


def dashboard_section(request, tenant) -> str:
    membership = getattr(request, "membership", None)
    if membership is None or membership.tenant_id != tenant.pk:
        membership = Membership.objects.filter(tenant=tenant, user=request.user).first()
    if membership is None or not selectors.visible_queue_ids(membership):
        return ""
    counts = selectors.inbox_counts(membership, now=timezone.now())
    return render_to_string(
        "support/_dashboard_section.html",
        {"tenant": tenant, "counts": counts, "views": selectors.INBOX_VIEWS},
        request=request,
    )
