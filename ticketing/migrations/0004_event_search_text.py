from django.db import migrations, models

FILL_SEARCH_TEXT = """
UPDATE ticketing_event
SET search_text = lower(concat_ws(' ', title, performer, venue_name, venue_city))
"""


class Migration(migrations.Migration):
    """Typo-tolerant event search: a lower-cased search text per event (filled for existing events here,
    kept by ``ticketing.services`` after). Its trigrams come in 0006 (no pg_trgm: the embedded PostgreSQL
    has no contrib extensions)."""

    dependencies = [
        ("tenants", "0004_tenant_branding"),
        ("ticketing", "0003_hardening_snapshots_pay_at_door_capacity"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunSQL(FILL_SEARCH_TEXT, migrations.RunSQL.noop),
    ]
