from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_tenant_webhooks_to_endpoints"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="outboxmessage",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("channel", "webhook"), ("endpoint__isnull", False)),
                    models.Q(models.Q(("channel", "webhook"), _negated=True), ("endpoint__isnull", True)),
                    _connector="OR",
                ),
                name="outbox_webhook_has_endpoint",
            ),
        ),
    ]
