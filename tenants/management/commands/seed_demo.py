import os

from django.core.management.base import BaseCommand

from core.registry import app_modules
from onboarding.services import email_address_mark_verified
from tenants import demo
from tenants.models import User


class Command(BaseCommand):
    help = "Load idempotent demo data (tenants, logins, and each app's demo content) and print the logins."

    def handle(self, *args, **options):
        tenants, users = demo.seed()
        logins = demo.logins()
        for app, module in app_modules("demo"):
            if app == "tenants":
                continue  # seeded first, above: every other app's demo builds on its tenants and people
            module.seed(tenants, users)
            logins.extend(getattr(module, "LOGINS", []))  # the people the app adds, as demo.logins()
        # Sign-in requires a verified address (allauth); the demo people's addresses are known good.
        for user in User.objects.filter(email__in=[email for email, _password, _what in logins]):
            email_address_mark_verified(user=user)
        self.stdout.write("")
        self.stdout.write("=" * 72)
        port = os.environ.get("WEB_PORT", "8000")
        self.stdout.write(f" VirtualQ demo is ready at http://127.0.0.1:{port}/")
        self.stdout.write(f" Demo logins (password for all: {demo.DEMO_PASSWORD}):")
        for email, _password, what in logins:
            self.stdout.write(f"   {email:<32} {what}")
        self.stdout.write("=" * 72)
        self.stdout.write("")
