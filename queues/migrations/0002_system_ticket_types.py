"""The system ticket types (creator-request, service, support) as data."""

from django.db import migrations

from queues.workflow import SYSTEM_TYPES, parse_workflow

SUPPORT_SCHEMA = {
    "type": "object",
    "properties": {
        "category": {
            "type": "string",
            "title": "Category",
            "enum": ["Account", "Equipment", "Facilities", "Other"],
        },
    },
}


def forward(apps, schema_editor):
    TicketType = apps.get_model("queues", "TicketType")
    for code, (name, workflow) in SYSTEM_TYPES.items():
        parse_workflow(workflow)  # never ship an invalid system type
        TicketType.objects.update_or_create(
            tenant=None,
            code=code,
            defaults={
                "name": name,
                "workflow": workflow,
                "custom_fields_schema": SUPPORT_SCHEMA if code == "support" else {},
                "description": f"System type: {name.lower()} life cycle.",
            },
        )


def backward(apps, schema_editor):
    TicketType = apps.get_model("queues", "TicketType")
    TicketType.objects.filter(tenant=None, code__in=list(SYSTEM_TYPES)).delete()


class Migration(migrations.Migration):
    dependencies = [("queues", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
