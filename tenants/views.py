from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from core.errors import DomainError, NotFound
from core.forms import show_domain_error
from core.i18n import supported
from core.registry import app_modules
from tenants.access import get_public_tenant, member_required, resolve_membership
from tenants.forms import TenantLanguageForm
from tenants.models import Role
from tenants.selectors import memberships_for, public_tenants
from tenants.services import tenant_language_set, user_language_set

# Apps contribute sections to the tenant's public home and dashboard home through ``<app>/sections.py``
# (core.registry): ``public_section(request, tenant) -> str``, ``dashboard_section(request, tenant) -> str``
# (rendered HTML) and ``DASHBOARD_NAV``.


def _render_sections(hook: str, request, tenant) -> list[str]:
    parts = []
    for _app, module in app_modules("sections"):
        function = getattr(module, hook, None)
        if function is not None:
            html = function(request, tenant)
            if html:
                parts.append(mark_safe(html))  # noqa: S308 - rendered by our own templates
    return parts


def dashboard_nav(tenant) -> list[tuple[str, str]]:
    return [item for _app, module in app_modules("sections") for item in getattr(module, "DASHBOARD_NAV", [])]


def public_home(request, tenant_slug):
    tenant = get_public_tenant(tenant_slug)
    return render(
        request,
        "tenants/public_home.html",
        {"tenant": tenant, "sections": _render_sections("public_section", request, tenant)},
    )


@login_required
def dashboard_home(request):
    memberships = list(memberships_for(request.user))
    current = request.session.get("current_tenant")
    if len(memberships) == 1 and request.GET.get("all") is None:
        return redirect("dashboard:tenant", tenant_slug=memberships[0].tenant.slug)
    return render(
        request, "tenants/dashboard_home.html", {"memberships": memberships, "current_slug": current}
    )


@login_required
@require_POST
def dashboard_switch(request):
    slug = request.POST.get("tenant", "")
    try:
        membership = resolve_membership(request.user, slug)
    except NotFound:
        raise NotFound(_("You are not a member of that tenant.")) from None
    request.session["current_tenant"] = membership.tenant.slug
    return redirect("dashboard:tenant", tenant_slug=membership.tenant.slug)


@member_required()
def tenant_dashboard(request):
    tenant = request.tenant
    return render(
        request,
        "tenants/tenant_dashboard.html",
        {
            "tenant": tenant,
            "membership": request.membership,
            "sections": _render_sections("dashboard_section", request, tenant),
        },
    )


@member_required(Role.MANAGER)
def tenant_language(request):
    """The tenant's default language (owners and managers)."""
    tenant = request.tenant
    form = TenantLanguageForm(request.POST or None, initial={"language": tenant.language})
    if request.method == "POST" and form.is_valid():
        try:
            tenant_language_set(tenant=tenant, actor=request.user, language=form.cleaned_data["language"])
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, _("Default language saved."))
            return redirect("dashboard:language", tenant.slug)
    return render(
        request,
        "tenants/language.html",
        {"tenant": tenant, "form": form},
        status=422 if request.method == "POST" else 200,
    )


# --- the site: the home page listing public spaces, and the language switcher ------------------------


@require_POST
def set_language(request):
    """The language switcher (POST with CSRF): Django's ``set_language`` sets the language cookie and
    redirects to ``next`` (same site only); a signed-in person's choice is also saved on their account,
    so it follows them to other browsers and into their emails."""
    response = django_set_language(request)
    language = supported(request.POST.get("language"))
    if language and language == request.POST.get("language") and request.user.is_authenticated:
        user_language_set(user=request.user, language=language)
    return response


def home(request):
    return render(request, "core/home.html", {"tenants": public_tenants()})
