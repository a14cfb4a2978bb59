"""Test doubles for the SMS channel. ``RecordingSmsBackend`` keeps texts in memory (thread safe, with an
optional delay so concurrent dispatchers overlap); ``SlowFileSmsBackend`` is for the real-worker tests:
it sleeps ``VQ_TEST_SMS_DELAY`` seconds and then appends a line to ``VQ_TEST_SMS_FILE``, so a worker
killed during the sleep has sent nothing."""

import os
import threading
import time

from notifications.sms import BaseSmsBackend


class RecordingSmsBackend(BaseSmsBackend):
    sent: list[tuple[str, str]] = []
    delay_seconds = 0.0
    fail_with: str = ""
    _lock = threading.Lock()

    def send_message(self, to: str, body: str) -> None:
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if RecordingSmsBackend.fail_with:
            raise RuntimeError(RecordingSmsBackend.fail_with)
        with self._lock:
            RecordingSmsBackend.sent.append((to, body))

    @classmethod
    def reset(cls) -> None:
        cls.sent = []
        cls.delay_seconds = 0.0
        cls.fail_with = ""


class SlowFileSmsBackend(BaseSmsBackend):
    def send_message(self, to: str, body: str) -> None:
        time.sleep(float(os.environ.get("VQ_TEST_SMS_DELAY", "0")))
        with open(os.environ["VQ_TEST_SMS_FILE"], "a") as handle:
            handle.write(f"{to}\t{body.splitlines()[-1]}\n")
