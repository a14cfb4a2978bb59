"""Users created before sign-up existed (by operators, invitations in the admin or the demo seed) keep
logging in: their address is recorded as verified, which allauth's mandatory verification requires."""

from django.db import migrations


def verify_existing(apps, schema_editor):
    User = apps.get_model("tenants", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    known = set(EmailAddress.objects.values_list("user_id", flat=True))
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user_id=user_id, email=email.lower(), verified=True, primary=True)
            for user_id, email in User.objects.values_list("id", "email")
            if user_id not in known and email
        ]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0001_initial"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(verify_existing, migrations.RunPython.noop)]
