from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = _("Support help desk")

    def ready(self):
        # The support clock follows every ticket write of a support queue, whichever path made it.
        from queues.kinds import register_kind_handlers
        from queues.models import QueueKind
        from support.kind import on_ticket_comment, on_ticket_event

        register_kind_handlers(QueueKind.SUPPORT, on_event=on_ticket_event, on_comment=on_ticket_comment)
