"""Payments tests run the real ``stripe`` SDK against localstripe, started here on a free port (one per
test process, no internet). Webhooks: localstripe signs and POSTs its events to a small capturing HTTP
server in this process (``webhook_inbox``); tests then deliver those exact bytes and headers to our
endpoint, as often as they like (replays), or forge them."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from payments.models import TenantPaymentSettings
from payments.services import payment_settings_update

WEBHOOK_SECRET = "whsec_virtualq_tests"
LAUNCHER = Path(__file__).with_name("localstripe_server.py")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """Webhook deliveries localstripe made: (body bytes, headers dict, parsed event)."""

    def __init__(self):
        self.deliveries: list[tuple[bytes, dict, dict]] = []
        self.lock = threading.Lock()

    def add(self, body: bytes, headers: dict) -> None:
        with self.lock:
            self.deliveries.append((body, headers, json.loads(body)))

    def wait_for(self, event_type: str, intent_id: str, timeout: float = 20.0) -> tuple[bytes, dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for body, headers, event in self.deliveries:
                    if event["type"] == event_type and event["data"]["object"].get("id") == intent_id:
                        return body, headers
            time.sleep(0.05)
        raise AssertionError(f"localstripe sent no {event_type} for {intent_id}")


@pytest.fixture(scope="session")
def webhook_inbox():
    inbox = Inbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            inbox.add(body, dict(self.headers.items()))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    inbox.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield inbox
    server.shutdown()


@pytest.fixture(scope="session")
def localstripe(webhook_inbox, tmp_path_factory):
    """The base URL of a running localstripe whose webhooks go to ``webhook_inbox``."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("localstripe") / "localstripe.log").open("w")
    process = subprocess.Popen(
        [sys.executable, str(LAUNCHER), "--port", str(port), "--from-scratch"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("localstripe did not start; see its log") from None
            time.sleep(0.1)
    request = urllib.request.Request(
        f"{base}/_config/webhooks/virtualq",
        data=f"url={webhook_inbox.url}&secret={WEBHOOK_SECRET}".encode(),
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 - local test server
    yield base
    process.terminate()
    process.wait(10)
    log.close()


@pytest.fixture
def stripe_settings(settings, localstripe):
    settings.STRIPE_API_BASE = localstripe
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_PUBLISHABLE_KEY = ""
    return settings


def connect_stripe(tenant, **extra) -> TenantPaymentSettings:
    """Give ``tenant`` its own (localstripe) Stripe keys, through the settings service."""
    return payment_settings_update(
        tenant=tenant,
        actor=None,
        stripe_publishable_key="pk_test_virtualq",
        stripe_secret_key="sk_test_virtualq_" + tenant.slug.replace("-", "_"),
        stripe_webhook_secret=WEBHOOK_SECRET,
        **extra,
    )


@pytest.fixture
def stripe_tenant(tenant, stripe_settings):
    connect_stripe(tenant)
    return tenant
