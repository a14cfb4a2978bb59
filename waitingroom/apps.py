from django.apps import AppConfig


class WaitingRoomConfig(AppConfig):
    name = "waitingroom"
    verbose_name = "Waiting room"

    def ready(self) -> None:
        from ticketing.signals import seats_freed
        from waitingroom.receivers import on_seats_freed

        seats_freed.connect(on_seats_freed, dispatch_uid="waitingroom.admit_on_freed_seats")
