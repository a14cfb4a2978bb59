"""The payments app's place in the tenant dashboard's navigation (the page itself is for owners)."""

from django.utils.translation import gettext_lazy as _

DASHBOARD_NAV = [(_("Payments"), "payments:settings")]
