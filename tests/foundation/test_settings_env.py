"""Settings come from the environment; each case imports settings in a fresh interpreter."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup();"
    "db = settings.DATABASES['default'];"
    "print(json.dumps({'debug': settings.DEBUG, 'hsts': settings.SECURE_HSTS_SECONDS,"
    " 'cookie_secure': settings.SESSION_COOKIE_SECURE, 'csrf_secure': settings.CSRF_COOKIE_SECURE,"
    " 'ssl_redirect': settings.SECURE_SSL_REDIRECT, 'db_host': db['HOST'], 'db_name': db['NAME'],"
    " 'db_engine': db['ENGINE'], 'pool': db.get('OPTIONS', {}).get('pool'), 'redis': settings.REDIS_URL,"
    " 'broker': settings.CELERY_BROKER_URL, 'hosts': settings.ALLOWED_HOSTS,"
    " 'acks_late': settings.CELERY_TASK_ACKS_LATE, 'reject_lost': settings.CELERY_TASK_REJECT_ON_WORKER_LOST,"
    " 'email': settings.EMAIL_BACKEND}))"
)


def load_settings(**env) -> dict:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DB_", "EMAIL_", "PYTEST_XDIST"))
    }
    base.update(
        DATABASE_URL="postgres://app@db.internal:5432/virtualq",
        REDIS_URL="redis://cache.internal:6379/2",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    base.update(env)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_defaults_are_safe():
    values = load_settings()
    assert values["debug"] is False
    assert values["hsts"] == 0
    assert values["cookie_secure"] is False
    assert values["db_engine"] == "django.db.backends.postgresql"


def test_service_urls_are_used_when_set():
    values = load_settings()
    assert values["db_host"] == "db.internal"
    assert values["db_name"] == "virtualq"
    assert values["redis"] == "redis://cache.internal:6379/2"
    assert values["broker"] == "redis://cache.internal:6379/2"


def test_production_switch_turns_on_secure_cookies_and_hsts():
    values = load_settings(DJANGO_SECURE="1", DJANGO_HSTS_SECONDS="600")
    assert values["hsts"] == 600
    assert values["cookie_secure"] is True
    assert values["csrf_secure"] is True
    assert values["ssl_redirect"] is True


def test_debug_allowed_hosts_and_pool_from_env():
    values = load_settings(
        DJANGO_DEBUG="true", DJANGO_ALLOWED_HOSTS="q.example.com, api.example.com", DB_POOL_MAX_SIZE="8"
    )
    assert values["debug"] is True
    assert values["hosts"] == ["q.example.com", "api.example.com"]
    assert values["pool"]["max_size"] == 8


def test_celery_is_configured_for_reliability():
    values = load_settings()
    assert values["acks_late"] is True
    assert values["reject_lost"] is True


def test_email_backend_from_env():
    values = load_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend")
    assert values["email"] == "django.core.mail.backends.smtp.EmailBackend"


def test_bad_boolean_is_a_clear_error():
    with pytest.raises(RuntimeError, match="DJANGO_DEBUG must be a boolean"):
        load_settings(DJANGO_DEBUG="maybe")
