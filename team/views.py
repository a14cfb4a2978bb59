"""Team pages: the member list (everyone; managers and owners manage it), the audit log (owners), and
the invitation link (``/accounts/invitations/<token>/``: sign up or sign in, then accept).

Every dashboard view resolves the tenant and role with ``member_required`` (another tenant's member gets
404); members and invitations are fetched within the tenant (``get_for_tenant``). State changes are
POST-only and go through ``team.services``; domain errors become messages next to the form.
"""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.account.adapter import get_adapter as get_account_adapter
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotFound, PermissionDenied
from core.forms import show_domain_error
from core.ratelimit import check_rate, client_address
from core.tenancy import get_for_tenant
from team import selectors, services
from team.audit import audit_log
from team.forms import InviteForm, RoleForm
from team.models import Invitation
from tenants.access import member_required
from tenants.models import Membership, Role, User


def _error_text(error: DomainError) -> str:
    details = [text for texts in error.field_errors.values() for text in texts]
    return " ".join(details) or error.message


def _team_redirect(request):
    return redirect("team:members", request.tenant.slug)


def _manages(membership: Membership) -> bool:
    return membership.has_role(Role.MANAGER)


@member_required()
def members(request):
    tenant = request.tenant
    desks = list(selectors.tenant_desks(tenant))
    invite_form = InviteForm(request.POST or None, desks=desks, prefix="invite")
    if request.method == "POST":
        if not _manages(request.membership):
            raise PermissionDenied(_("Only managers and owners invite people."))
        if invite_form.is_valid():
            data = invite_form.cleaned_data
            try:
                services.invitation_send(
                    tenant=tenant,
                    actor=request.user,
                    email=data["email"],
                    role=data["role"],
                    desks=data["desks"],
                )
            except DomainError as error:
                show_domain_error(invite_form, error)
            else:
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": data["email"]})
                return _team_redirect(request)
    rows = selectors.team_members(tenant)
    role_forms = {
        row.membership.pk: RoleForm(
            initial={"role": row.role_value, "desks": [str(desk.pk) for desk in row.desks]},
            desks=desks,
            prefix=f"member-{row.membership.pk}",
        )
        for row in rows
    }
    return render(
        request,
        "team/members.html",
        {
            "tenant": tenant,
            "membership": request.membership,
            "manages": _manages(request.membership),
            "is_owner": request.membership.role == Role.OWNER,
            "rows": [(row, role_forms[row.membership.pk]) for row in rows],
            "invitations": list(selectors.pending_invitations(tenant)),
            "invite_form": invite_form,
            "now": timezone.now(),
        },
        status=422 if request.method == "POST" else 200,
    )


@member_required(Role.MANAGER)
@require_POST
def member_role(request, membership_id: int):
    target = get_for_tenant(Membership, request.tenant, pk=membership_id)
    form = RoleForm(
        request.POST, desks=list(selectors.tenant_desks(request.tenant)), prefix=f"member-{target.pk}"
    )
    if not form.is_valid():
        errors = [text for texts in form.errors.values() for text in texts]
        messages.error(
            request, _("%(email)s: %(errors)s") % {"email": target.user.email, "errors": " ".join(errors)}
        )
        return _team_redirect(request)
    try:
        services.member_change_role(
            tenant=request.tenant,
            actor=request.user,
            membership=target,
            role=form.cleaned_data["role"],
            desks=form.cleaned_data["desks"],
        )
    except DomainError as error:
        messages.error(
            request, _("%(email)s: %(errors)s") % {"email": target.user.email, "errors": _error_text(error)}
        )
    else:
        messages.success(request, _("%(email)s now has the new role.") % {"email": target.user.email})
    return _team_redirect(request)


@member_required()
@require_POST
def member_remove(request, membership_id: int):
    target = get_for_tenant(Membership, request.tenant, pk=membership_id)
    leaving = target.pk == request.membership.pk
    if not leaving and not _manages(request.membership):
        raise PermissionDenied(_("Only managers and owners remove members."))
    try:
        services.member_remove(tenant=request.tenant, actor=request.user, membership=target)
    except DomainError as error:
        messages.error(request, _error_text(error))
        return _team_redirect(request)
    if leaving:
        messages.success(request, _("You left %(tenant)s.") % {"tenant": request.tenant.name})
        return redirect("dashboard:home")
    messages.success(request, _("%(email)s was removed from the team.") % {"email": target.user.email})
    return _team_redirect(request)


@member_required(Role.MANAGER)
@require_POST
def invitation_action(request, invitation_id: int, action: str):
    invitation = get_for_tenant(Invitation, request.tenant, pk=invitation_id)
    try:
        if action == "resend":
            services.invitation_resend(tenant=request.tenant, actor=request.user, invitation=invitation)
            messages.success(
                request,
                _("Invitation sent again to %(email)s; the old link no longer works.")
                % {"email": invitation.email},
            )
        elif action == "revoke":
            services.invitation_revoke(tenant=request.tenant, actor=request.user, invitation=invitation)
            messages.success(request, _("Invitation of %(email)s revoked.") % {"email": invitation.email})
        else:
            raise NotFound()
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        messages.error(request, _error_text(error))
    return _team_redirect(request)


@member_required(Role.OWNER)
def audit(request):
    return render(
        request,
        "team/audit.html",
        {"tenant": request.tenant, "entries": list(audit_log(request.tenant))},
    )


# --- the invitation link ---------------------------------------------------------------------------

SESSION_TOKEN_KEY = "team_invitation_token"


def accept(request, token: str):
    """GET shows the invitation and the way in: accept (signed in with the invited email), log in
    (an account exists), or sign up through allauth's sign-up page. POST ``accept`` joins; POST
    ``signup`` stashes the invited email as verified (the token proves it — allauth's own hook for
    invitations) and the token, then sends the person to the sign-up page; ``team.receivers`` accepts
    right after the account is made, and the person lands on the team's dashboard."""
    check_rate("team-invitation", client_address(request))
    signed_in = request.user.is_authenticated
    if signed_in and request.method == "GET":
        joined = services.invitation_accepted_by(token, request.user)
        if joined is not None:  # the link again, after sign-up accepted it: go to the team
            return redirect("dashboard:tenant", tenant_slug=joined.slug)
    invitation = services.invitation_for_token(token)
    if request.method == "POST":
        if request.POST.get("action") == "signup" and not signed_in:
            get_account_adapter(request).stash_verified_email(request, invitation.email)
            request.session[SESSION_TOKEN_KEY] = token
            query = urlencode({"email": invitation.email, "next": request.path})
            return redirect(f"{reverse('account_signup')}?{query}")
        if not signed_in:
            return redirect_to_login(request.get_full_path())
        try:
            membership = services.invitation_accept(token=token, user=request.user)
        except DomainError as error:
            if isinstance(error, NotFound):
                raise
            messages.error(request, _error_text(error))
            return redirect("team:accept", token=token)
        request.session.pop(SESSION_TOKEN_KEY, None)
        messages.success(request, _("Welcome to %(tenant)s.") % {"tenant": membership.tenant.name})
        return redirect("dashboard:tenant", tenant_slug=membership.tenant.slug)
    return render(
        request,
        "team/accept.html",
        {
            "invitation": invitation,
            "desk_names": [desk.queue.name for desk in invitation.desks.select_related("queue")],
            "has_account": User.objects.filter(email__iexact=invitation.email).exists(),
            "signed_in": signed_in,
            "email_matches": signed_in and request.user.email.lower() == invitation.email.lower(),
            "login_url": f"{reverse('account_login')}?{urlencode({'next': request.path})}",
        },
    )
