"""Dashboard page for API keys: list, create (the secret is shown once, on the page answering the POST),
revoke. Owners and managers only; views authorise and call ``api.services``."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from api import services
from api.forms import ApiKeyForm
from api.models import ApiKey
from core.errors import ValidationError
from core.tenancy import get_for_tenant
from tenants.access import member_required
from tenants.models import Role


@member_required(Role.MANAGER)
def api_keys(request):
    form = ApiKeyForm(request.POST or None)
    created_secret = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                key, created_secret = services.api_key_create(
                    tenant=request.tenant,
                    actor=request.user,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                )
            except ValidationError as error:
                for field, errors in error.field_errors.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
                status = 422
            else:
                form = ApiKeyForm()
        else:
            status = 422
    keys = ApiKey.objects.for_tenant(request.tenant).select_related("created_by", "revoked_by")
    response = render(
        request,
        "api/keys.html",
        {"form": form, "keys": keys, "created_secret": created_secret, "tenant": request.tenant},
        status=status,
    )
    if created_secret:
        response["Cache-Control"] = "no-store"
    return response


@member_required(Role.MANAGER)
@require_POST
def api_key_revoke(request, key_id: int):
    key = get_for_tenant(ApiKey, request.tenant, pk=key_id)
    services.api_key_revoke(tenant=request.tenant, actor=request.user, api_key=key)
    messages.success(request, _("Revoked %(name)s. Requests with it now get 401.") % {"name": key.name})
    return redirect("apikeys:keys", tenant_slug=request.tenant.slug)
