from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WaitingRoomConfig(AppConfig):
    name = "waitingroom"
    verbose_name = _("Waiting room")

    def ready(self) -> None:
        from ticketing.models import SessionSource
        from ticketing.signals import seats_freed, waiting_room_switched_on
        from ticketing.sources import register_checkout_source
        from waitingroom.checkout_source import admitted_checkout_completing, admitted_checkout_opening
        from waitingroom.receivers import on_seats_freed, on_waiting_room_switched_on

        seats_freed.connect(on_seats_freed, dispatch_uid="waitingroom.admit_on_freed_seats")
        waiting_room_switched_on.connect(
            on_waiting_room_switched_on, dispatch_uid="waitingroom.settings_on_switch"
        )
        register_checkout_source(
            SessionSource.WAITING_ROOM,
            on_open=admitted_checkout_opening,
            on_complete=admitted_checkout_completing,
        )
