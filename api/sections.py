"""Dashboard hook: the API keys page in the tenant nav (the page itself refuses staff with 403)."""

from django.utils.translation import gettext_lazy as _

DASHBOARD_NAV = [(_("API keys"), "apikeys:keys")]
