"""One reference lookup for a tenant's public pages (the not-found page offers it): whatever the person
has — a queue or help-desk request's reference number, an order reference, or a ticket's code — it finds
its page (for an order, it offers to email the order's link to the address it was bought with). Only
this tenant's orders and tickets (and requests in this tenant's queues) are tried, so a
lookup never reveals another tenant's things; every try counts against the same per-address budget as
the request status lookup (``ticket-status``), answered or not.
"""

from __future__ import annotations

import re

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from core.ratelimit import check_rate, client_address
from core.references import normalize_reference
from tenants.access import get_public_tenant

TICKET_CODE = re.compile(r"[A-Za-z0-9_-]{16,40}")
MAX_INPUT = 100


def _target(tenant, text: str):
    """The address of the tenant's thing named by ``text``, the Order an order reference names (its page
    is not opened from the reference: see ``tenant_lookup``), or None."""
    from queues.models import Ticket
    from ticketing.models import IssuedTicket, Order

    reference = normalize_reference(text)
    if reference:
        order = (
            Order.objects.for_tenant(tenant).select_related("customer").filter(reference=reference).first()
        )
        if order is not None:
            return order
        if Ticket.objects.for_tenant(tenant).filter(reference=reference).exists():
            return reverse("queues:status", kwargs={"reference": reference})
    code = text.strip()
    if TICKET_CODE.fullmatch(code) and IssuedTicket.objects.for_tenant(tenant).filter(code=code).exists():
        return reverse("ticketing_public:ticket", kwargs={"tenant_slug": tenant.slug, "code": code})
    return None


def tenant_lookup(request, tenant_slug):
    """``/<tenant>/lookup/?reference=…`` → the page of the request, order or ticket it names."""
    tenant = get_public_tenant(tenant_slug)
    text = " ".join(str(request.GET.get("reference", ""))[:MAX_INPUT].split())
    context = {"tenant": tenant, "value": text}
    if not text:
        return render(request, "tenants/lookup.html", context)
    check_rate("ticket-status", client_address(request))
    target = _target(tenant, text)
    if isinstance(target, str):
        return redirect(target)
    if target is not None:
        # An order reference is printed on receipts and read out at the door: it must not open the order
        # page (its QR codes are the tickets). Offer to email the link to the address it was bought with.
        context["order"] = target
        return render(request, "tenants/lookup.html", context)
    context["error"] = _(
        "We found nothing with that reference at %(tenant)s. Check it: a request's or an order's "
        "reference has 12 letters and digits (K7Q-4MZ-9XP-2HD); a ticket's code is printed under its QR code."
    ) % {"tenant": tenant.name}
    return render(request, "tenants/lookup.html", context, status=404)
