"""The onboarding app's places in the tenant dashboard's navigation."""

from django.utils.translation import gettext_lazy as _

DASHBOARD_NAV = [
    (_("Set up"), "onboarding:setup"),
    (_("Security"), "onboarding:security"),
    (_("Language"), "dashboard:language"),
]
