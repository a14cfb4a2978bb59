"""The owner's payment settings page. Secrets are never put back into the form (masks only)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from core.errors import ValidationError
from payments.forms import PaymentSettingsForm
from payments.models import TenantPaymentSettings
from payments.services import payment_settings_update
from tenants.access import member_required
from tenants.models import Role


@member_required(Role.OWNER)
def payment_settings(request):
    tenant = request.tenant
    row = TenantPaymentSettings.objects.filter(tenant=tenant).first()
    initial = {"tip_capture_on": "approve"}
    if row is not None:
        initial = {
            "stripe_publishable_key": row.stripe_publishable_key,
            "legal_name": row.legal_name,
            "address": row.address,
            "tax_id": row.tax_id,
            "tip_capture_on": row.tip_capture_on,
        }
    form = PaymentSettingsForm(request.POST or None, initial=initial, row=row)
    if request.method == "POST" and form.is_valid():
        try:
            payment_settings_update(tenant=tenant, actor=request.user, **form.cleaned_data)
            messages.success(request, _("Payment settings saved."))
            return redirect("payments:settings", tenant_slug=tenant.slug)
        except ValidationError as error:
            for field, field_messages in error.field_errors.items():
                for message in field_messages:
                    form.add_error(field if field in form.fields else None, message)
    webhook_url = request.build_absolute_uri(reverse("payments:stripe_webhook", args=[tenant.slug]))
    return render(
        request,
        "payments/settings.html",
        {"tenant": tenant, "form": form, "row": row, "webhook_url": webhook_url},
        status=422 if request.method == "POST" else 200,
    )
