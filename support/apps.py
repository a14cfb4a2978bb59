from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Support help desk"

    def ready(self):
        # The support clock follows every ticket write of a support queue, whichever path made it.
        from support import receivers  # noqa: F401
