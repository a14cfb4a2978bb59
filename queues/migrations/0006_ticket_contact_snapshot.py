"""Tickets keep their own contact snapshot (name, email, phone as submitted). Existing tickets get their
customer's current contact: the best record there is of what was submitted."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_from_customers(apps, schema_editor):
    Ticket = apps.get_model("queues", "Ticket")
    Customer = apps.get_model("tenants", "Customer")
    customer = Customer.objects.filter(pk=OuterRef("customer_id"))
    Ticket.objects.filter(customer__isnull=False).update(
        contact_name=Subquery(customer.values("name")[:1]),
        contact_email=Subquery(customer.values("email")[:1]),
        contact_phone=Subquery(customer.values("phone")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("queues", "0005_eta_accuracy"),
        ("tenants", "0004_tenant_branding"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="contact_email",
            field=models.EmailField(blank=True, max_length=254),
        ),
        migrations.AddField(
            model_name="ticket",
            name="contact_name",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="ticket",
            name="contact_phone",
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.RunPython(fill_from_customers, migrations.RunPython.noop),
    ]
