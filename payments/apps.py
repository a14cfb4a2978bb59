from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        # Named seams (see DESIGN "Seams between the apps"): ticketing's provider registry and the
        # queues' tip hook are filled here, not through model signals.
        from payments import tips  # noqa: F401 - registers the queues tip receiver
        from ticketing.payments import register_provider
        from ticketing.payments.stripe_provider import StripeProvider

        register_provider(StripeProvider())
