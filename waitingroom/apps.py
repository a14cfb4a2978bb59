from django.apps import AppConfig


class WaitingRoomConfig(AppConfig):
    name = "waitingroom"
    verbose_name = "Waiting room"

    def ready(self) -> None:
        from django.db.models.signals import pre_save

        from ticketing.models import CheckoutSession
        from ticketing.signals import seats_freed
        from waitingroom.receivers import guard_admitted_checkout, on_seats_freed

        seats_freed.connect(on_seats_freed, dispatch_uid="waitingroom.admit_on_freed_seats")
        pre_save.connect(
            guard_admitted_checkout, sender=CheckoutSession, dispatch_uid="waitingroom.guard_checkout"
        )
