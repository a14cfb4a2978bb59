"""End to end with a real Celery worker process and the real Redis broker.

The worker runs ``.venv/bin/celery -A config worker --pool=solo`` against this test's database (its
``DATABASE_URL`` names pytest-django's ``test_…`` database) and consumes only a queue unique to the
test, so other tests' tasks never reach it.

The second test kills the worker with SIGKILL in the middle of a slow delivery: nothing was sent, the
message stays pending with an expired claim, and after a restart the beat sweep (sent here by hand, as
beat would) delivers it exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction

from notifications.models import OutboxMessage
from notifications.services import notify, preferences_update
from notifications.tasks import dispatch_due
from notifications.types import TICKET_CALLED
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(settings.BASE_DIR)
CELERY = BASE_DIR / ".venv" / "bin" / "celery"


def _database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "postgres", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = quote(db["HOST"] or "localhost", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{db['NAME']}"


class Worker:
    def __init__(self, tmp_path: Path, queue: str, extra_env: dict[str, str]):
        self.log_path = tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "NOTIFICATIONS_TASK_QUEUE": queue,
            "LOG_FORMAT": "text",
            **extra_env,
        }
        self.queue = queue
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        command = [str(CELERY), "-A", "config", "worker", "--pool=solo", "-Q", self.queue, "-l", "INFO"]
        command += ["--without-gossip", "--without-mingle", "-n", f"{self.queue}-{uuid.uuid4().hex[:6]}@%h"]
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, cwd=BASE_DIR, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if "ready." in self.log_path.read_text():
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"worker did not start:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def _wait_for(predicate, timeout: float, what: str, worker: Worker):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}; worker log:\n{worker.log_path.read_text()[-3000:]}")


@pytest.fixture
def queue(settings):
    name = f"vq-test-notifications-{uuid.uuid4().hex[:10]}"
    settings.NOTIFICATIONS_TASK_QUEUE = name
    return name


def test_real_worker_delivers_an_email_end_to_end(tenant, queue, tmp_path):
    emails = tmp_path / "emails"
    worker = Worker(
        tmp_path,
        queue,
        {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": str(emails)},
    ).start()
    try:
        customer = CustomerFactory(tenant=tenant, email_consent=True)
        with transaction.atomic(durable=True):
            (message,) = notify(
                tenant=tenant,
                event_type=TICKET_CALLED,
                context={
                    "subject": "Desk 4 is ready for you",
                    "body": "Come now.",
                    "action_url": "/status/X/",
                },
                customer=customer,
            )
        # The on-commit hook enqueued the task on Redis; the worker delivers and records it.
        _wait_for(
            lambda: OutboxMessage.objects.get(pk=message.pk).status == "sent",
            60,
            "the message to be sent",
            worker,
        )
    finally:
        worker.stop()
    (email_file,) = list(emails.iterdir())
    content = email_file.read_text()
    assert f"To: {customer.email}" in content
    assert "Desk 4 is ready for you" in content
    assert "/unsubscribe/" in content
    message.refresh_from_db()
    assert message.attempts == 1
    assert [a.succeeded for a in message.delivery_attempts.all()] == [True]


def test_killing_the_worker_mid_delivery_loses_nothing_and_delivers_once(tenant, queue, tmp_path):
    sent_file = tmp_path / "sms.txt"
    sent_file.touch()
    env = {
        "SMS_BACKEND": "tests.notifications.backends.SlowFileSmsBackend",
        "VQ_TEST_SMS_FILE": str(sent_file),
        "VQ_TEST_SMS_DELAY": "4",
        # A short lease so the test does not wait minutes for the dead worker's claim to expire.
        "NOTIFICATIONS_CLAIM_SECONDS": "3",
    }
    customer = CustomerFactory(tenant=tenant, email="", phone="+15557654321")
    preferences_update(tenant=tenant, customer=customer, choices={(TICKET_CALLED, "sms"): True})

    first = Worker(tmp_path, queue, env).start()
    try:
        with transaction.atomic(durable=True):
            (message,) = notify(
                tenant=tenant, event_type=TICKET_CALLED, context={"subject": "Your turn"}, customer=customer
            )
        _wait_for(
            lambda: OutboxMessage.objects.get(pk=message.pk).claimed_until is not None,
            60,
            "the worker to claim the message",
            first,
        )
        time.sleep(1)  # well inside the 4 s delivery
        first.kill()
    finally:
        first.stop()

    message.refresh_from_db()
    assert sent_file.read_text() == ""
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.delivery_attempts.count() == 0

    second = Worker(tmp_path, queue, {**env, "VQ_TEST_SMS_DELAY": "0"}).start()
    try:
        time.sleep(3.5)  # the dead worker's lease runs out
        dispatch_due.apply_async(queue=queue)  # what beat sends every 30 s
        _wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).status == "sent", 60, "redelivery", second)
        # A second sweep (or Redis redelivering the killed task later) finds nothing to do.
        dispatch_due.apply_async(queue=queue)
        time.sleep(1.5)
    finally:
        second.stop()

    lines = sent_file.read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("+15557654321\t")
    message.refresh_from_db()
    assert message.attempts == 2
    attempts = list(message.delivery_attempts.order_by("number"))
    assert [(a.number, a.succeeded) for a in attempts] == [(1, False), (2, True)]
    assert "claim expired" in attempts[0].error


if sys.platform != "linux":  # pragma: no cover
    pytestmark.append(pytest.mark.skip(reason="process signals as on Linux"))
