import django.contrib.postgres.indexes
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

FILL_SEARCH_TEXT = """
UPDATE ticketing_event
SET search_text = lower(concat_ws(' ', title, performer, venue_name, venue_city))
"""


class Migration(migrations.Migration):
    """Typo-tolerant event search: pg_trgm, a lower-cased search text per event (filled for existing
    events here, kept by ``ticketing.services`` after) and its trigram GIN index."""

    dependencies = [
        ("tenants", "0004_tenant_branding"),
        ("ticketing", "0003_hardening_snapshots_pay_at_door_capacity"),
    ]

    operations = [
        TrigramExtension(),
        migrations.AddField(
            model_name="event",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunSQL(FILL_SEARCH_TEXT, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="event",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass("search_text", name="gin_trgm_ops"),
                name="event_search_text_trgm",
            ),
        ),
    ]
