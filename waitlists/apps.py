from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WaitlistsConfig(AppConfig):
    name = "waitlists"
    verbose_name = _("Waitlists")

    def ready(self) -> None:
        from ticketing.panels import register_event_panel
        from ticketing.signals import seats_freed
        from waitlists.panels import join_panel
        from waitlists.receivers import on_seats_freed

        seats_freed.connect(on_seats_freed, dispatch_uid="waitlists.offer_freed_seats")
        register_event_panel("sold_out", join_panel)
