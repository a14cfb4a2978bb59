"""Browser tests: Debian's Chromium driven by Playwright against the app served on 127.0.0.1 by the
same processes ``make run`` starts (daphne for HTTP + websockets, a Celery worker and beat), on a
database of their own (``<name>_e2e``, created fresh per session, migrated and seeded with demo data).

Run with ``pytest -m browser -p no:xdist``; ``make test`` does so after the other tests.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("VQ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "screenshots"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _with_redis_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


def _admin_connection(database_url: str):
    import dj_database_url

    params = dj_database_url.parse(database_url)
    return psycopg.connect(
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


class App:
    def __init__(self, base_url: str, env: dict, email_dir: Path):
        self.base_url = base_url
        self.env = env
        self.email_dir = email_dir

    def url(self, path: str) -> str:
        return self.base_url + path

    def manage(self, *args: str, input_text: str | None = None) -> str:
        """Run ``manage.py`` against the app's database (for setup and time travel in journeys)."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            input=input_text,
            capture_output=True,
            text=True,
            # Migrating a fresh database takes over two minutes on a loaded two-core CI machine.
            timeout=600,
        )
        if result.returncode != 0:
            raise RuntimeError(result.stderr)
        return result.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "--no-imports", "-c", code)

    def emails(self) -> list[str]:
        if not self.email_dir.exists():
            return []
        return [path.read_text(errors="replace") for path in sorted(self.email_dir.glob("*.log"))]


@pytest.fixture(scope="session")
def live_app(django_db_blocker):
    from django.conf import settings

    database_url = _with_database(settings.DATABASE_URL, f"{settings.DATABASES['default']['NAME']}_e2e")
    name = urlsplit(database_url).path.lstrip("/")
    with _admin_connection(settings.DATABASE_URL) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    run_dir = Path(os.environ.get("VQ_E2E_DIR", "/tmp")) / f"vq-e2e-{os.getpid()}"
    run_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": _with_redis_db(settings.REDIS_URL, 5),
        "SITE_URL": f"http://127.0.0.1:{port}",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(run_dir / "emails"),
        "MEDIA_ROOT": str(run_dir / "media"),
        "PYTHONUNBUFFERED": "1",
        "VQ_FAST_PASSWORD_HASHER": "1",
        # Every journey comes from 127.0.0.1 and the limiter's counters live in Redis between runs; the
        # limits have their own tests (tests/reliability/test_abuse_limits.py).
        "RATE_LIMIT_SUBMISSIONS": "10000/600",
        "RATE_LIMIT_SUBMISSIONS_PER_EMAIL": "10000/600",
        "RATE_LIMIT_PASSWORD_RESET": "10000/h/ip,10000/h/key",
        "LOGIN_FAILURE_LIMIT": "1000",
    }
    app = App(f"http://127.0.0.1:{port}", env, run_dir / "emails")
    # collectstatic needs no database: it runs while the database is migrated and seeded.
    static = subprocess.Popen(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], cwd=ROOT, env=env
    )
    app.manage("migrate", "--noinput", "--verbosity", "0")
    app.manage("seed_demo")
    if static.wait(120) != 0:
        raise RuntimeError("collectstatic failed")
    bin_dir = Path(sys.executable).parent
    commands = {
        "web": [str(bin_dir / "daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        "worker": [str(bin_dir / "celery"), "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"],
        "beat": [
            str(bin_dir / "celery"), "-A", "config", "beat", "--loglevel=INFO",
            f"--schedule={run_dir / 'beat-schedule'}",
        ],
    }  # fmt: skip
    processes = {}
    for label, command in commands.items():
        log = open(run_dir / f"{label}.log", "w")  # noqa: SIM115 - closed with the process
        processes[label] = (
            subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            ),
            log,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(app.url("/readyz"), timeout=2) as response:  # noqa: S310 - 127.0.0.1
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the app did not become ready; see {run_dir}/web.log")
        time.sleep(0.3)
    try:
        yield app
    finally:
        for process, _log in processes.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process, log in processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
            log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    # expect() waits up to 5 s by default; a loaded CI machine needs more (actions wait 15 s, see page).
    expect.set_options(timeout=10_000)

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        # Every open page (this test's contexts included), as it was: a CI artefact next to the shots.
        for index, open_page in enumerate(p for c in browser.contexts for p in c.pages):
            with contextlib.suppress(Exception):
                screenshot(open_page, f"FAILED-{request.node.name}-{index}")
    context.close()


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def axe_violations(page, *, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core on the current page; return the violations of the given impacts."""
    # Evaluated through the DevTools protocol, not added as an inline <script>: the site's
    # Content-Security-Policy (rightly) refuses inline scripts, and the test must not weaken it.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;0")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def login(page, app, email: str, password: str = "virtualq-demo") -> None:
    page.goto(app.url("/accounts/login/"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


PHONE = {"width": 390, "height": 844}


def snap(page, name: str) -> None:
    """Screenshots of the current page at desktop width and at phone width (``<name>-desktop.png`` and
    ``<name>-phone.png``); the viewport is put back afterwards."""
    screenshot(page, f"{name}-desktop")
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(size)


def check_page(page, name: str) -> None:
    """axe-core finds no serious or critical problem on the current page; then desktop + phone shots."""
    violations = axe_violations(page)
    assert violations == [], f"{name} ({page.url}): {violations}"
    snap(page, name)


def keyboard_type(page, locator, text: str) -> None:
    """Focus a field and type into it with the keyboard (no clicks)."""
    locator.focus()
    page.keyboard.type(text)


def tab_to(page, locator, *, limit: int = 40) -> None:
    """Press Tab until ``locator`` has the focus (fails if it is not reachable by keyboard)."""
    handle = locator.element_handle()
    for _ in range(limit):
        if page.evaluate("(element) => document.activeElement === element", handle):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{locator} is not reachable with the Tab key")


def mark_no_reload(page) -> None:
    """Tag the page's window; :func:`assert_not_reloaded` then proves no navigation happened since."""
    page.evaluate("window.__vqNoReload = 'still the same page'")


def assert_not_reloaded(page) -> None:
    assert page.evaluate("window.__vqNoReload") == "still the same page", "the page was reloaded"


def wait_live(page) -> None:
    """Wait until the page's live socket (static/js/live.js) is connected."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-live-socket]')]"
        ".every((element) => element.dataset.liveState === 'connected')"
    )


def decoded_emails(app) -> list[str]:
    """Every email the file backend wrote, headers and decoded text parts (quoted-printable and base64
    undone, so links can be read whole)."""
    import email
    from email import policy

    texts = []
    for raw in app.emails():
        for chunk in raw.split("-" * 79):
            if not chunk.strip():
                continue
            message = email.message_from_string(chunk.lstrip("\n"), policy=policy.default)
            parts = [f"{key}: {value}" for key, value in message.items()]
            for part in message.walk():
                if part.get_content_maintype() == "text":
                    parts.append(part.get_content())
            texts.append("\n".join(parts))
    return texts


def wait_for_email(app, matches, *, timeout: float = 30.0) -> str:
    """The first email written by the file backend for which ``matches(text)`` is true (see
    :func:`decoded_emails`); polls the email folder (the worker delivers from the outbox) until
    ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        for text in decoded_emails(app):
            if matches(text):
                return text
        if time.monotonic() > deadline:
            raise AssertionError(f"no matching email in {app.email_dir} after {timeout}s")
        time.sleep(0.25)
