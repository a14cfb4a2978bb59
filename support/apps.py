from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = _("Support help desk")

    def ready(self):
        # The support clock follows every ticket write of a support queue, whichever path made it.
        from support import receivers  # noqa: F401
