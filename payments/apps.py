from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        # Named seams (see DESIGN "Seams between the apps"): ticketing's provider registry and the
        # queues' tip hook are filled here, not through model signals.
        from payments import tips  # noqa: F401 - registers the queues tip receiver
        from ticketing.payments import register_provider
        from ticketing.payments.stripe_provider import StripeProvider

        register_provider(StripeProvider())
