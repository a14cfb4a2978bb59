import pytest

from tests.notifications.backends import RecordingSmsBackend
from tests.notifications.webhook_server import WebhookReceiver


@pytest.fixture(autouse=True)
def _notification_settings(settings):
    settings.SMS_BACKEND = "tests.notifications.backends.RecordingSmsBackend"
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 6
    settings.NOTIFICATIONS_BACKOFF_BASE_SECONDS = 30
    settings.NOTIFICATIONS_BACKOFF_MAX_SECONDS = 3600
    settings.NOTIFICATIONS_WEBHOOK_TIMEOUT_SECONDS = 5
    # The local receiver listens on 127.0.0.1; production (DJANGO_SECURE) ignores this setting.
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = True
    # On-commit enqueues from these tests go to a queue no development worker consumes (a worker on the
    # same Redis would otherwise deliver test message ids against its own database).
    settings.NOTIFICATIONS_TASK_QUEUE = "vq-tests-not-consumed"
    RecordingSmsBackend.reset()
    yield
    RecordingSmsBackend.reset()


@pytest.fixture
def webhook_receiver():
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def make_endpoint(tenant):
    """Create a webhook endpoint through the service (all events unless told otherwise)."""
    from notifications.webhooks.catalogue import WebhookEvent
    from notifications.webhooks.services import endpoint_create

    def make(url, *, event_types=None, for_tenant=None):
        return endpoint_create(
            tenant=for_tenant or tenant,
            actor=None,
            url=url,
            event_types=list(event_types or WebhookEvent.values),
        )

    return make
