"""Delivery channels: email (Django's email backend), signed webhooks (urllib), SMS (pluggable backend).

Each ``send_*`` either returns a DeliveryResult or raises; the dispatcher records the outcome. Channels
never touch the outbox row themselves. Every delivery carries the message id (``X-VirtualQ-Message-Id``
header on email, ``webhook-id`` on webhooks) so a receiver can drop the rare duplicate left by a worker
that died between sending and recording.

Webhooks follow Standard Webhooks (https://www.standardwebhooks.com): headers ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature`` (``v1,<base64 HMAC-SHA256>`` over
``"<id>.<timestamp>.<body>"`` with the endpoint's ``whsec_`` secret), made by the ``standardwebhooks``
library; receivers verify with ``standardwebhooks.Webhook(secret).verify(body, headers)``. Each attempt
goes to the endpoint's current URL with its current secret. Redirects are not followed, and loopback /
private addresses are refused (``private_address_reason``).
"""

from __future__ import annotations

import ipaddress
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from standardwebhooks import Webhook

from notifications import conf
from notifications.sms import get_sms_backend
from notifications.types import Channel, EventType


class PermanentDeliveryError(Exception):
    """Retrying cannot help (e.g. the tenant removed its webhook secret): fail the message now.

    Fixed texts are stored in English (``gettext_noop``) in ``last_error`` and the attempt's ``error``;
    the delivery log translates them when it shows them (``{% translate row.last_error %}``)."""


@dataclass
class DeliveryResult:
    response_status: int | None = None


# --- email ----------------------------------------------------------------------------------------


def email_context(message) -> dict:
    from notifications.links import person_token, preferences_url, unsubscribe_url

    payload = message.payload or {}
    context = {**payload, "message": message, "tenant": message.tenant}
    context["event_label"] = EventType(message.event_type).label
    context["body_paragraphs"] = [p.strip() for p in str(payload.get("body", "")).split("\n\n") if p.strip()]
    person = {"customer": message.customer} if message.customer_id else {"user": message.user}
    if message.customer_id or message.user_id:
        token = person_token(tenant=message.tenant, event_type=message.event_type, **person)
        context["unsubscribe_url"] = unsubscribe_url(token)
        context["preferences_url"] = preferences_url(token)
    return context


def render_email(message) -> EmailMultiAlternatives:
    """Subject, text and HTML from ``notifications/email/<event_type>/`` templates when they exist,
    else the generic ones in ``notifications/email/``."""
    context = email_context(message)
    folder = "notifications/email"
    event_folder = f"{folder}/{message.event_type}"

    def render(name: str) -> str:
        return render_to_string([f"{event_folder}/{name}", f"{folder}/{name}"], context)

    subject = " ".join(render("subject.txt").split())[:200]
    headers = {"X-VirtualQ-Message-Id": str(message.pk)}
    if context.get("unsubscribe_url"):
        headers["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
    email = EmailMultiAlternatives(
        subject=subject,
        body=render("body.txt"),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers=headers,
    )
    email.attach_alternative(render("body.html"), "text/html")
    return email


def send_email(message) -> DeliveryResult:
    if not (message.customer_id or message.user_id):
        raise PermanentDeliveryError(
            gettext_noop("The recipient no longer exists, so no unsubscribe link can be made.")
        )
    render_email(message).send(fail_silently=False)
    return DeliveryResult()


# --- webhooks -------------------------------------------------------------------------------------


def webhook_body(message) -> bytes:
    """The body exactly as signed: the Standard Webhooks document written by ``emit`` (type, timestamp,
    data), compact JSON. The same bytes on every attempt and every redelivery."""
    return json.dumps(message.payload, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True).encode()


def webhook_headers(*, secret: str, message_id: str, body: bytes, at: datetime | None = None) -> dict:
    """Standard Webhooks headers for ``body``, signed with ``secret`` (``whsec_…``) by the
    ``standardwebhooks`` library. ``at`` is the real clock: receivers reject stale timestamps."""
    at = at or datetime.now(tz=UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body.decode()),
    }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would re-send (or drop) a signed POST somewhere the tenant did not configure.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def private_address_reason(url: str) -> str:
    """Why ``url`` must not receive webhooks ("" when it may): it resolves to a loopback, private,
    link-local or otherwise non-global address, unless ``conf.webhook_allow_private()``. The check
    resolves the host name; it narrows, not closes, DNS-rebinding tricks, so production should also
    egress-filter the workers. Raises WebhookError when the name does not resolve (may be temporary)."""
    if conf.webhook_allow_private():
        return ""
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError as error:
        raise WebhookError(
            _("Could not resolve %(host)s: %(error)s") % {"host": host, "error": error}
        ) from None
    for address in sorted(addresses):
        ip = ipaddress.ip_address(address.split("%")[0])
        for candidate in (ip, *_embedded_ipv4(ip)):
            if not candidate.is_global or candidate.is_multicast:
                return _("Webhook address %(host)s resolves to a non-public address (%(ip)s).") % {
                    "host": host,
                    "ip": ip,
                }
    return ""


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def _embedded_ipv4(ip) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64, IPv4-compatible): each
    must be public too, or ``[64:ff9b::7f00:1]`` would reach 127.0.0.1 through a NAT64 gateway."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    found = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    if ip in _NAT64 or ip in _IPV4_COMPATIBLE:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [address for address in found if address is not None]


def check_webhook_address(url: str) -> None:
    reason = private_address_reason(url)
    if reason:
        raise PermanentDeliveryError(reason)


def send_webhook(message) -> DeliveryResult:
    endpoint = message.endpoint
    if endpoint is None:
        raise PermanentDeliveryError(gettext_noop("The webhook endpoint no longer exists."))
    if endpoint.disabled_at is not None:
        raise PermanentDeliveryError(gettext_noop("The webhook endpoint is disabled."))
    url = endpoint.url
    if not url.startswith(("https://", "http://")):
        raise PermanentDeliveryError(gettext_noop("Webhook addresses must be http(s) URLs."))
    check_webhook_address(url)
    body = webhook_body(message)
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "VirtualQ-Webhooks/2",
            **webhook_headers(secret=endpoint.secret, message_id=message.webhook_id, body=body),
        },
    )
    try:
        with _opener.open(request, timeout=conf.webhook_timeout_seconds()) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        raise WebhookError(f"HTTP {error.code} from {url}", status=error.code) from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise WebhookError(f"Could not reach {url}: {reason}") from None
    if not 200 <= status < 300:
        raise WebhookError(f"HTTP {status} from {url}", status=status)
    return DeliveryResult(response_status=status)


class WebhookError(Exception):
    def __init__(self, text: str, *, status: int | None = None):
        super().__init__(text)
        self.status = status


# --- SMS ------------------------------------------------------------------------------------------


def sms_text(message) -> str:
    payload = message.payload or {}
    parts = [f"{message.tenant.name}: {payload.get('subject', '')}".strip()]
    if payload.get("action_url"):
        parts.append(str(payload["action_url"]))
    return "\n".join(parts)[:480]


def send_sms(message) -> DeliveryResult:
    get_sms_backend().send_message(message.recipient, sms_text(message))
    return DeliveryResult()


SENDERS = {Channel.EMAIL: send_email, Channel.WEBHOOK: send_webhook, Channel.SMS: send_sms}


def deliver(message) -> DeliveryResult:
    """Send one message; emails and texts are rendered in the language it was written for."""
    with translation.override(message.language or settings.LANGUAGE_CODE):
        return SENDERS[Channel(message.channel)](message)
