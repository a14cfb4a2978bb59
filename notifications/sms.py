"""Pluggable SMS backends, chosen by ``settings.SMS_BACKEND`` (dotted path). A backend has
``send_message(to, body)`` and raises on failure; the outbox records the error and retries."""

from __future__ import annotations

import sys
import threading

from django.conf import settings
from django.utils.module_loading import import_string


class BaseSmsBackend:
    def send_message(self, to: str, body: str) -> None:
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Writes texts to standard output (the default: development and demos)."""

    _lock = threading.Lock()

    def send_message(self, to: str, body: str) -> None:
        with self._lock:
            sys.stdout.write(f"SMS to {to}:\n{body}\n{'-' * 40}\n")
            sys.stdout.flush()


class LocmemSmsBackend(BaseSmsBackend):
    """Keeps texts in ``LocmemSmsBackend.outbox`` (tests)."""

    outbox: list[tuple[str, str]] = []

    def send_message(self, to: str, body: str) -> None:
        self.outbox.append((to, body))


def get_sms_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()
