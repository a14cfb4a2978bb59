from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WaitingRoomConfig(AppConfig):
    name = "waitingroom"
    verbose_name = _("Waiting room")

    def ready(self) -> None:
        from django.db.models.signals import pre_save

        from ticketing.models import CheckoutSession
        from ticketing.signals import seats_freed, waiting_room_switched_on
        from waitingroom.receivers import guard_admitted_checkout, on_seats_freed, on_waiting_room_switched_on

        seats_freed.connect(on_seats_freed, dispatch_uid="waitingroom.admit_on_freed_seats")
        waiting_room_switched_on.connect(
            on_waiting_room_switched_on, dispatch_uid="waitingroom.settings_on_switch"
        )
        pre_save.connect(
            guard_admitted_checkout, sender=CheckoutSession, dispatch_uid="waitingroom.guard_checkout"
        )
