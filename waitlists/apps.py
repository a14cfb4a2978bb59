from django.apps import AppConfig


class WaitlistsConfig(AppConfig):
    name = "waitlists"
    verbose_name = "Waitlists"

    def ready(self) -> None:
        from ticketing.signals import seats_freed
        from waitlists.receivers import on_seats_freed

        seats_freed.connect(on_seats_freed, dispatch_uid="waitlists.offer_freed_seats")
