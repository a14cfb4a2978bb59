"""Data-rights pages. Public, per tenant (``/<tenant>/privacy/…``): ask (emails a confirmation link),
confirm (GET shows, POST confirms), download an export. Dashboard (``/dashboard/<tenant>/privacy/``,
managers and owners): see and process requests. Tenancy: the tenant comes from the URL and the signed
links name it; requests are fetched within the tenant (another tenant's id is 404)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotFound
from core.ratelimit import check_rate, client_address
from core.tenancy import get_for_tenant
from privacy import services
from privacy.forms import AskForm, RejectForm
from privacy.models import DataRequest, RequestKind, RequestStatus
from tenants.access import get_public_tenant, member_required
from tenants.models import Role


def ask(request, tenant_slug: str):
    tenant = get_public_tenant(tenant_slug)
    form = AskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check_rate("privacy-ask", client_address(request), "5/300")
        services.ask_link_send(
            tenant=tenant, email=form.cleaned_data["email"], kind=form.cleaned_data["kind"]
        )
        messages.success(
            request, _("We emailed you a link. Open it within 2 days to confirm; nothing happens until then.")
        )
        return redirect("privacy_public:ask", tenant_slug=tenant.slug)
    return render(
        request,
        "privacy/ask.html",
        {"tenant": tenant, "form": form},
        status=422 if request.method == "POST" else 200,
    )


def confirm(request, tenant_slug: str, token: str):
    tenant = get_public_tenant(tenant_slug)
    check_rate("privacy-confirm", client_address(request))
    email, kind = services.ask_link_read(tenant, token)
    if request.method == "POST":
        try:
            data_request = services.data_request_confirm(tenant=tenant, token=token)
        except DomainError as error:
            if isinstance(error, NotFound):
                raise
            messages.info(request, error.message)
            return redirect("privacy_public:ask", tenant_slug=tenant.slug)
        return render(request, "privacy/confirmed.html", {"tenant": tenant, "data_request": data_request})
    return render(
        request,
        "privacy/confirm.html",
        {"tenant": tenant, "email": email, "kind_label": RequestKind(kind).label},
    )


def export_download(request, tenant_slug: str, token: str):
    tenant = get_public_tenant(tenant_slug)
    check_rate("privacy-export", client_address(request))
    return _json_download(services.export_for_token(tenant, token))


def _json_download(data_request: DataRequest) -> HttpResponse:
    body = json.dumps(data_request.export_data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="my-data-{data_request.pk}.json"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- dashboard ------------------------------------------------------------------------------------


@member_required(Role.MANAGER)
def requests_list(request):
    rows = list(
        DataRequest.objects.for_tenant(request.tenant).select_related("processed_by").defer("export_data")
    )
    return render(
        request,
        "privacy/requests.html",
        {
            "tenant": request.tenant,
            "pending": [row for row in rows if row.status == RequestStatus.PENDING],
            "done": [row for row in rows if row.status != RequestStatus.PENDING][:100],
            "reject_form": RejectForm(),
        },
    )


@member_required(Role.MANAGER)
@require_POST
def request_action(request, request_id: int, action: str):
    data_request = get_for_tenant(DataRequest, request.tenant, pk=request_id)
    try:
        if action == "process":
            services.data_request_process(
                tenant=request.tenant, actor=request.user, data_request=data_request
            )
            messages.success(
                request, _("Request #%(number)s done; the person was emailed.") % {"number": data_request.pk}
            )
        elif action == "reject":
            form = RejectForm(request.POST)
            services.data_request_reject(
                tenant=request.tenant,
                actor=request.user,
                data_request=data_request,
                note=form.data.get("note", ""),
            )
            messages.success(
                request,
                _("Request #%(number)s rejected; the person was told why.") % {"number": data_request.pk},
            )
        else:
            raise NotFound()
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        details = [text for texts in error.field_errors.values() for text in texts]
        messages.error(request, " ".join(details) or error.message)
    return redirect("privacy:requests", request.tenant.slug)


@member_required(Role.MANAGER)
def request_download(request, request_id: int):
    data_request = get_for_tenant(DataRequest, request.tenant, pk=request_id, kind=RequestKind.EXPORT)
    if data_request.export_data is None:
        raise NotFound(_("This export is not ready or no longer kept."))
    return _json_download(data_request)
