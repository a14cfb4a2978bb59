"""Delivery channels: email (Django's email backend), signed webhooks (urllib), SMS (pluggable backend).

Each ``send_*`` either returns a DeliveryResult or raises; the dispatcher records the outcome. Channels
never touch the outbox row themselves. Every delivery carries the message id (``X-VirtualQ-Message-Id``
header on email, ``X-VirtualQ-Delivery`` on webhooks) so a receiver can drop the rare duplicate left by
a worker that died between sending and recording.

Webhook signature: ``X-VirtualQ-Signature: sha256=<hex>`` where hex is
HMAC-SHA256(tenant.webhook_secret, f"{X-VirtualQ-Timestamp}." + raw body). Receivers verify with
:func:`verify_signature` (or the same four lines in their language) and reject stale timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string

from notifications import conf
from notifications.sms import get_sms_backend
from notifications.types import Channel, EventType

SIGNATURE_HEADER = "X-VirtualQ-Signature"
TIMESTAMP_HEADER = "X-VirtualQ-Timestamp"
DELIVERY_HEADER = "X-VirtualQ-Delivery"
EVENT_HEADER = "X-VirtualQ-Event"


class PermanentDeliveryError(Exception):
    """Retrying cannot help (e.g. the tenant removed its webhook secret): fail the message now."""


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
        raise PermanentDeliveryError("The recipient no longer exists, so no unsubscribe link can be made.")
    render_email(message).send(fail_silently=False)
    return DeliveryResult()


# --- webhooks -------------------------------------------------------------------------------------


def webhook_body(message) -> bytes:
    document = {
        "id": message.pk,
        "event": message.event_type,
        "tenant": message.tenant.slug,
        "created_at": message.created_at,
        "related": {"type": message.related_type, "id": message.related_id} if message.related_type else None,
        "data": message.payload,
    }
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True).encode()


def sign_body(secret: str, timestamp: int | str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: str, body: bytes, timestamp: str, signature: str, *, tolerance_seconds: int = 300, now=None
) -> bool:
    """True when ``signature`` is ours for ``body`` at ``timestamp`` and the timestamp is fresh."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except (TypeError, ValueError):
        return False
    if age > tolerance_seconds:
        return False
    return hmac.compare_digest(sign_body(secret, timestamp, body), signature or "")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would re-send (or drop) a signed POST somewhere the tenant did not configure.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def check_webhook_address(url: str) -> None:
    """Refuse internal destinations unless allowed (see ``conf.webhook_allow_private``). The check
    resolves the host name; it narrows, not closes, DNS-rebinding tricks, so production should also
    egress-filter the workers."""
    if conf.webhook_allow_private():
        return
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError as error:
        raise WebhookError(f"Could not resolve {host}: {error}") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise PermanentDeliveryError(f"Webhook address {host} resolves to a non-public address ({ip}).")


def send_webhook(message) -> DeliveryResult:
    secret = message.tenant.webhook_secret
    if not secret:
        raise PermanentDeliveryError("The tenant has no webhook secret; unsigned webhooks are never sent.")
    if not message.recipient.startswith(("https://", "http://")):
        raise PermanentDeliveryError("Webhook addresses must be http(s) URLs.")
    check_webhook_address(message.recipient)
    body = webhook_body(message)
    timestamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        message.recipient,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "VirtualQ-Webhooks/1",
            EVENT_HEADER: message.event_type,
            DELIVERY_HEADER: str(message.pk),
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign_body(secret, timestamp, body),
        },
    )
    try:
        with _opener.open(request, timeout=conf.webhook_timeout_seconds()) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        raise WebhookError(f"HTTP {error.code} from {message.recipient}", status=error.code) from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise WebhookError(f"Could not reach {message.recipient}: {reason}") from None
    if not 200 <= status < 300:
        raise WebhookError(f"HTTP {status} from {message.recipient}", status=status)
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
    return SENDERS[Channel(message.channel)](message)
