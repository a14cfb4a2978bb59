from django.utils.translation import gettext_lazy as _

DASHBOARD_NAV = [(_("Team"), "team:members")]
