"""The owners' branding page, and the two public files every public page of the tenant links:
``/<slug>/brand.css`` (the accent as a CSS custom property — a stylesheet, since a strict CSP forbids
inline styles) and ``/<slug>/brand/logo/``. Both are cacheable: pages link them with a version that
changes with the branding."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from branding import services
from branding.contrast import ACCENT_USED_WITH, accent_problems, contrast_ratio, ratio_text
from branding.forms import BrandingForm
from branding.models import TenantLogo
from branding.templatetags.branding import stylesheet_version
from core.errors import DomainError, NotFound
from core.forms import show_domain_error
from tenants.access import get_public_tenant, member_required
from tenants.models import Role

CACHE_SECONDS = 24 * 3600


@member_required(Role.OWNER)
def edit(request):
    tenant = request.tenant
    initial = {"accent_colour": tenant.brand_colour.lower(), "intro": tenant.brand_intro}
    form = BrandingForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("logo")
        try:
            services.tenant_branding_update(
                tenant=tenant,
                actor=request.user,
                accent_colour=form.cleaned_data["accent_colour"],
                intro=form.cleaned_data["intro"],
                logo=upload.read() if upload else None,
                remove_logo=form.cleaned_data["remove_logo"],
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, _("Branding saved. Your public pages show it now."))
            return redirect("branding:edit", tenant.slug)
    current = tenant.brand_colour.lower()
    return render(
        request,
        "branding/edit.html",
        {
            "tenant": tenant,
            "form": form,
            "current_problems": accent_problems(current),
            "ratios": [
                (label, ratio_text(contrast_ratio(current, other)))
                for other, label in ACCENT_USED_WITH.items()
            ],
        },
        status=422 if request.method == "POST" else 200,
    )


@require_GET
def stylesheet(request, tenant_slug: str):
    tenant = get_public_tenant(tenant_slug)
    accent = tenant.brand_colour.lower()
    body = f"/* Branding of {tenant.slug}. */\n"
    if not accent_problems(accent):
        # Only a colour that passed the contrast check reaches a page (older rows may predate it).
        body += f":root {{ --brand: {accent}; }}\n"
    response = HttpResponse(body, content_type="text/css; charset=utf-8")
    if request.GET.get("v") == stylesheet_version(tenant):
        response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    else:
        response["Cache-Control"] = "no-cache"
    return response


@require_GET
def logo(request, tenant_slug: str):
    tenant = get_public_tenant(tenant_slug)
    row = TenantLogo.objects.filter(tenant=tenant).first()
    if row is None:
        raise NotFound(_("This page has no logo."))
    response = HttpResponse(bytes(row.data), content_type=row.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    fresh = request.GET.get("v") == str(tenant.brand_logo_version)
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}" if fresh else "no-cache"
    return response
