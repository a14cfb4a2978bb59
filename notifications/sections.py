"""Dashboard hooks: the delivery log and the member's own notification choices in the tenant nav."""

from django.utils.translation import gettext_lazy as _

DASHBOARD_NAV = [
    (_("Notifications"), "notifications:log"),
    (_("Webhooks"), "notifications:webhooks"),
    (_("My notifications"), "notifications:preferences"),
]
