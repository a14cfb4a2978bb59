import base64
import secrets

from django.db import migrations


def tenant_webhooks_to_endpoints(apps, schema_editor):
    """Each tenant's single webhook (Tenant.webhook_url + webhook_secret) becomes an endpoint subscribed
    to every event. The old secret's bytes stay the HMAC key (as ``whsec_`` + base64), though the
    signature scheme is now Standard Webhooks. A URL without a secret was never sent to: its endpoint is
    created disabled, with a fresh secret. Webhook messages already in the outbox move to the endpoint."""
    Tenant = apps.get_model("tenants", "Tenant")
    WebhookEndpoint = apps.get_model("notifications", "WebhookEndpoint")
    OutboxMessage = apps.get_model("notifications", "OutboxMessage")
    from django.utils import timezone

    everything = [
        "checkin.recorded",
        "order.cancelled",
        "order.paid",
        "order.refunded",
        "support.ticket.assigned",
        "support.ticket.commented",
        "support.ticket.escalated",
        "support.ticket.submitted",
        "support.ticket.transitioned",
        "ticket.submitted",
        "ticket.transitioned",
        "waitlist.offered",
    ]
    with_messages = set(OutboxMessage.objects.filter(channel="webhook").values_list("tenant_id", flat=True))
    for tenant in Tenant.objects.all():
        if not tenant.webhook_url and tenant.pk not in with_messages:
            continue
        if tenant.webhook_secret:
            secret = "whsec_" + base64.b64encode(tenant.webhook_secret.encode()).decode()
        else:
            secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        disabled = not (tenant.webhook_url and tenant.webhook_secret)
        endpoint = WebhookEndpoint.objects.create(
            tenant=tenant,
            url=tenant.webhook_url or "https://invalid.example/",
            description="Moved from the tenant's webhook setting",
            event_types=everything,
            secret=secret,
            disabled_at=timezone.now() if disabled else None,
            disabled_reason="manual" if disabled else "",
        )
        OutboxMessage.objects.filter(tenant=tenant, channel="webhook").update(endpoint=endpoint)


class Migration(migrations.Migration):
    # Its own migration (own transaction): an ALTER TABLE after these UPDATEs in one transaction would
    # meet PostgreSQL's "pending trigger events" from the deferred foreign keys.

    dependencies = [
        ("notifications", "0002_webhook_endpoints"),
    ]

    operations = [
        migrations.RunPython(tenant_webhooks_to_endpoints, migrations.RunPython.noop),
    ]
