"""Write path for customers' data rights: ask by a verified email link, export, erase, withdraw consent.

How a request is made: the public form only emails a signed link (``ask_link_send``; no row, nothing
stored for an address nobody proved); confirming that link (``data_request_confirm``) creates the
request. Withdrawing consent is applied in that same transaction — at once, no staff step. Exports and
erasures wait for a manager or owner (``data_request_process`` / ``data_request_reject``).

What each app holds about a customer is its own business: apps with a ``<app>/privacy.py`` (listed in
``PRIVACY_APPS``) export their part (``export_customer``), erase it (``erase_customer``, inside this
module's transaction, given the ``related_keys`` of every app's things of the person), optionally
prepare an erasure in their own durable services first (``before_erase``) and react to withdrawn
consent (``withdraw_consent``).

Locks: the request row ``FOR UPDATE`` (a double click processes once), then the tenant's customer rows
with that address ``FOR UPDATE`` (a submission creating or updating the customer waits for the erasure
and then finds a blank row or none). Emails to the customer go out on commit.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.signing import sign, unsign
from privacy.models import DataRequest, RequestKind, RequestStatus
from team.audit import audit_record
from team.models import AuditAction
from tenants.models import Customer, Membership, Role, Tenant, User
from ticketing.texts import status_word

PRIVACY_APPS = ["queues", "ticketing", "payments", "waitlists", "notifications"]
ASK_SALT = "privacy.ask"
ASK_MAX_AGE = timedelta(days=2)
EXPORT_SALT = "privacy.export"
EXPORT_MAX_AGE = timedelta(days=7)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _parts(hook: str):
    for app in PRIVACY_APPS:
        function = getattr(import_module(f"{app}.privacy"), hook, None)
        if function is not None:
            yield function


def email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationError(
            _("Check the address."), field_errors={"email": [_("Enter a valid email address.")]}
        ) from None
    return email


def _person_language(tenant: Tenant, email: str) -> str | None:
    """The language remembered for the person behind ``email`` (None: the active one)."""
    from core.i18n import supported
    from ticketing.texts import language_of

    for customer in _customers(tenant, email):
        if language_of(customer):
            return language_of(customer)
    return supported(tenant.language)  # unknown person: the tenant's default language


def _customers(tenant: Tenant, email: str, *, lock: bool = False) -> list[Customer]:
    queryset = Customer.objects.for_tenant(tenant).filter(email__iexact=email).order_by("pk")
    return list(queryset.select_for_update() if lock else queryset)


# --- asking ---------------------------------------------------------------------------------------


def ask_link_token(tenant: Tenant, email: str, kind: str) -> str:
    return sign({"t": tenant.pk, "e": email, "k": kind}, salt=ASK_SALT)


def ask_link_send(*, tenant: Tenant, email: str, kind: str) -> None:
    """Email ``email`` a link that confirms a request of ``kind`` (valid for 2 days). Writes nothing.
    Raises ValidationError for a bad address or kind."""
    email = _clean_email(email)
    if kind not in RequestKind.values:
        raise ValidationError(_("Choose what you want."), field_errors={"kind": [_("Choose what you want.")]})
    token = ask_link_token(tenant, email, kind)
    link = settings.SITE_URL + reverse(
        "privacy_public:confirm", kwargs={"tenant_slug": tenant.slug, "token": token}
    )
    names = {"tenant": tenant.name, "what": status_word(RequestKind(kind).label)}
    send_mail(
        _("Confirm your request to %(tenant)s") % names,
        _("Someone (we hope you) asked %(tenant)s for: %(what)s.") % names
        + "\n\n"
        + ngettext(
            "Open this link within %(days)s day to confirm it:",
            "Open this link within %(days)s days to confirm it:",
            ASK_MAX_AGE.days,
        )
        % {"days": ASK_MAX_AGE.days}
        + f"\n\n{link}\n\n"
        + _("If it was not you, ignore this email: nothing happens without the link.")
        + "\n",
        None,
        [email],
    )


def ask_link_read(tenant: Tenant, token: str) -> tuple[str, str]:
    """``(email, kind)`` of a confirmation link of ``tenant``; NotFound (bad, expired, other tenant)."""
    payload = unsign(token, salt=ASK_SALT, max_age_seconds=int(ASK_MAX_AGE.total_seconds()))
    if payload.get("t") != tenant.pk or payload.get("k") not in RequestKind.values or not payload.get("e"):
        raise NotFound(_("This link is not valid. Check that you copied all of it."))
    return payload["e"], payload["k"]


def data_request_confirm(*, tenant: Tenant, token: str, now: datetime | None = None) -> DataRequest:
    """Turn a confirmed link into a request. Withdrawal of consent takes effect here, at once: the
    customer's consent flags are cleared and their pending consent-based emails stopped, and the request
    is recorded as done. Locks the customer rows of the address. Raises NotFound (bad link), Conflict (the
    same request is already open)."""
    now = _now(now)
    email, kind = ask_link_read(tenant, token)
    with transaction.atomic(durable=True):
        customers = _customers(tenant, email, lock=True)
        if kind == RequestKind.WITHDRAW_CONSENT:
            Customer.objects.filter(pk__in=[c.pk for c in customers]).update(email_consent=False)
            for withdraw in _parts("withdraw_consent"):
                withdraw(customers, now=now)
            return DataRequest.objects.create(
                tenant=tenant,
                email=email,
                email_hash=email_hash(email),
                kind=kind,
                status=RequestStatus.COMPLETED,
                verified_at=now,
                processed_at=now,
                note=gettext_noop("Applied at once: no more emails that need consent."),  # shown translated
            )
        try:
            with transaction.atomic():
                return DataRequest.objects.create(
                    tenant=tenant, email=email, email_hash=email_hash(email), kind=kind, verified_at=now
                )
        except IntegrityError:
            raise Conflict(_("You already asked for this; the team is on it and will email you.")) from None


# --- exporting ------------------------------------------------------------------------------------


def customer_export(tenant: Tenant, email: str, *, now: datetime | None = None) -> dict:
    """Everything ``tenant`` holds about the person with ``email``, as JSON-ready data. A selector."""
    customers = _customers(tenant, email)
    document: dict = {
        "tenant": tenant.name,
        "email": email,
        "generated_at": _now(now).isoformat(),
        "profile": [
            {
                "name": c.name,
                "email": c.email,
                "phone": c.phone,
                "social_handle": c.social_handle,
                "location": c.location,
                "email_consent": c.email_consent,
                "known_since": c.created_at.isoformat(),
            }
            for c in customers
        ],
    }
    for export in _parts("export_customer"):
        document.update(export(customers))
    return document


def export_link_token(data_request: DataRequest) -> str:
    return sign({"t": data_request.tenant_id, "r": data_request.pk}, salt=EXPORT_SALT)


def export_for_token(tenant: Tenant, token: str) -> DataRequest:
    payload = unsign(token, salt=EXPORT_SALT, max_age_seconds=int(EXPORT_MAX_AGE.total_seconds()))
    data_request = DataRequest.objects.filter(
        tenant=tenant, pk=payload.get("r"), kind=RequestKind.EXPORT
    ).first()
    if payload.get("t") != tenant.pk or data_request is None or data_request.export_data is None:
        raise NotFound(_("This download is no longer available. Ask for a new export."))
    return data_request


# --- processing -----------------------------------------------------------------------------------


def _check_processor(tenant: Tenant, actor: User) -> None:
    membership = Membership.objects.filter(tenant=tenant, user=actor).first()
    if membership is None:
        raise NotFound()
    if not membership.has_role(Role.MANAGER):
        raise PermissionDenied(_("Only managers and owners process data requests."))


def _pending_for_update(tenant: Tenant, data_request: DataRequest) -> DataRequest:
    locked = DataRequest.objects.select_for_update().filter(tenant=tenant, pk=data_request.pk).first()
    if locked is None:
        raise NotFound()
    if locked.status != RequestStatus.PENDING:
        raise Conflict(
            _("This request is already %(status)s.") % {"status": status_word(locked.get_status_display())}
        )
    return locked


def _erase(tenant: Tenant, email: str, now: datetime) -> int:
    customers = _customers(tenant, email, lock=True)
    related = [key for keys in _parts("related_keys") for key in keys(customers)]
    for erase in _parts("erase_customer"):
        erase(customers, now=now, related=related)
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(
        name="",
        email="",
        phone="",
        social_handle="",
        location="",
        email_consent=False,
        user=None,
        updated_at=now,
    )
    # The address leaves the request log too (the hash stays as the record of what was done).
    DataRequest.objects.filter(tenant=tenant, email_hash=email_hash(email)).update(email="", export_data=None)
    return len(customers)


def data_request_process(
    *, tenant: Tenant, actor: User, data_request: DataRequest, now: datetime | None = None
) -> DataRequest:
    """Do what a pending request asks: an export is built and stored, and its person emailed a download
    link (7 days); an erasure withdraws their live waitlist places (each app's ``before_erase``), then
    erases their personal data everywhere and keeps orders, tickets and totals without the person.

    Locks: see the module docstring. Raises NotFound (another tenant's), PermissionDenied (staff),
    Conflict (already processed). Audited without the address."""
    now = _now(now)
    _check_processor(tenant, actor)
    if data_request.tenant_id != tenant.pk:
        raise NotFound()
    if data_request.status != RequestStatus.PENDING:
        raise Conflict(
            _("This request is already %(status)s.")
            % {"status": status_word(data_request.get_status_display())}
        )
    email = data_request.email
    language = _person_language(tenant, email)  # the emails below go to the person, in their language
    if data_request.kind == RequestKind.DELETE:
        customers = _customers(tenant, email)
        for prepare in _parts("before_erase"):
            prepare(tenant, customers, now=now)
    with transaction.atomic(durable=True):
        data_request = _pending_for_update(tenant, data_request)
        if data_request.kind == RequestKind.EXPORT:
            data_request.export_data = customer_export(tenant, email, now=now)
            data_request.note = gettext_noop(
                "Export prepared; the download link was emailed."
            )  # shown translated
            link = settings.SITE_URL + reverse(
                "privacy_public:export",
                kwargs={"tenant_slug": tenant.slug, "token": export_link_token(data_request)},
            )
            with translation.override(language):
                subject = _("Your data from %(tenant)s") % {"tenant": tenant.name}
                body = (
                    ngettext(
                        "Here is everything %(tenant)s holds about you, as a JSON file "
                        "(the link works for %(days)s day):",
                        "Here is everything %(tenant)s holds about you, as a JSON file "
                        "(the link works for %(days)s days):",
                        EXPORT_MAX_AGE.days,
                    )
                    % {"tenant": tenant.name, "days": EXPORT_MAX_AGE.days}
                    + f"\n\n{link}\n"
                )
        else:
            count = _erase(tenant, email, now)
            data_request.email = ""
            data_request.note = ngettext(
                "Personal data erased (%(count)s customer record); orders kept without the person.",
                "Personal data erased (%(count)s customer records); orders kept without the person.",
                count,
            ) % {"count": count}
            with translation.override(language):
                subject = _("Your data at %(tenant)s was deleted") % {"tenant": tenant.name}
                body = (
                    _("%(tenant)s deleted your personal data as you asked. Orders stay, without your name.")
                    % {"tenant": tenant.name}
                    + "\n"
                )
        data_request.status = RequestStatus.COMPLETED
        data_request.processed_at = now
        data_request.processed_by = actor
        data_request.save()
        audit_record(
            tenant=tenant,
            actor=actor,
            action=AuditAction.DATA_REQUEST_PROCESSED,
            target=f"data request #{data_request.pk}",
            details={"kind": data_request.kind},
        )
        transaction.on_commit(lambda: send_mail(subject, body, None, [email]))
    return data_request


def data_request_reject(
    *, tenant: Tenant, actor: User, data_request: DataRequest, note: str, now: datetime | None = None
) -> DataRequest:
    """Refuse a pending request with a reason, which is emailed to the person. Locks the request row.
    Raises ValidationError (no reason), NotFound, PermissionDenied, Conflict (already processed)."""
    now = _now(now)
    note = (note or "").strip()
    if not note:
        raise ValidationError(
            _("Give a reason."), field_errors={"note": [_("Say why, for the person asking.")]}
        )
    _check_processor(tenant, actor)
    with transaction.atomic(durable=True):
        data_request = _pending_for_update(tenant, data_request)
        data_request.status = RequestStatus.REJECTED
        data_request.processed_at = now
        data_request.processed_by = actor
        data_request.note = note[:500]
        data_request.save()
        audit_record(
            tenant=tenant,
            actor=actor,
            action=AuditAction.DATA_REQUEST_REJECTED,
            target=f"data request #{data_request.pk}",
            details={"kind": data_request.kind, "reason": data_request.note},
        )
        email = data_request.email
        with translation.override(_person_language(tenant, email)):
            label = status_word(data_request.get_kind_display())
            subject = _("About your request to %(tenant)s") % {"tenant": tenant.name}
            body = (
                _("%(tenant)s did not carry out your request (%(what)s):")
                % {"tenant": tenant.name, "what": label}
                + f"\n\n{note}\n"
            )
        transaction.on_commit(lambda: send_mail(subject, body, None, [email]))
    return data_request
