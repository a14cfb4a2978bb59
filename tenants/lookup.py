"""One reference lookup for a tenant's public pages (the not-found page offers it): whatever the person
has — a queue or help-desk request's reference number, an order reference, or a ticket's code — it finds
its page. Only this tenant's orders and tickets (and requests in this tenant's queues) are tried, so a
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


def _target(tenant, text: str) -> str | None:
    """The address of the tenant's thing named by ``text``, or None."""
    from queues.models import Ticket
    from ticketing.models import IssuedTicket, Order

    reference = normalize_reference(text)
    if reference:
        order = Order.objects.for_tenant(tenant).filter(reference=reference).only("access_token").first()
        if order is not None:
            return reverse(
                "ticketing_public:order", kwargs={"tenant_slug": tenant.slug, "token": order.access_token}
            )
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
    if target:
        return redirect(target)
    context["error"] = _(
        "We found nothing with that reference at %(tenant)s. Check it: a request's or an order's "
        "reference has 12 letters and digits (K7Q-4MZ-9XP-2HD); a ticket's code is printed under its QR code."
    ) % {"tenant": tenant.name}
    return render(request, "tenants/lookup.html", context, status=404)
