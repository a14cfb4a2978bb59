"""The embedded PostgreSQL and Redis start under the data folder and are reused across runs."""

import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest
import redis

from config import embedded

pytestmark = pytest.mark.slow


@pytest.fixture
def data_dir(monkeypatch):
    # Not under pytest's tmp_path: that tree is private to root (0700) and PostgreSQL runs as the
    # unprivileged ``pgserver`` user when tests run as root, so it must be able to reach its folder.
    base = Path(tempfile.mkdtemp(prefix="vq-embedded-test-"))
    base.chmod(0o755)
    monkeypatch.setenv("VQ_DATA_DIR", str(base / "data"))
    yield base / "data"
    embedded.stop_postgres()
    embedded.stop_redis()
    shutil.rmtree(base, ignore_errors=True)


def _connect(url: str):
    import dj_database_url

    params = dj_database_url.parse(url)
    return psycopg.connect(host=params["HOST"], user=params["USER"], dbname=params["NAME"], autocommit=True)


def test_postgres_starts_once_and_is_reused(data_dir):
    url = embedded.ensure_postgres()
    assert str(data_dir / "pg") in embedded.postgres_dir().as_posix()
    pid = (data_dir / "pg" / "postmaster.pid").read_text().splitlines()[0]
    with _connect(url) as conn:
        conn.execute("CREATE TABLE kept (value text)")
        conn.execute("INSERT INTO kept VALUES ('survives')")
        assert conn.execute("SHOW max_connections").fetchone()[0] == str(embedded.MAX_CONNECTIONS)
    # A second process asking for it gets the running server, not a new one.
    assert embedded.ensure_postgres() == url
    assert (data_dir / "pg" / "postmaster.pid").read_text().splitlines()[0] == pid
    # Stopped and started again (a second `make run`), the data is still there.
    assert embedded.stop_postgres() is True
    assert embedded.ensure_postgres() == url
    with _connect(url) as conn:
        assert conn.execute("SELECT value FROM kept").fetchone()[0] == "survives"


def test_redis_starts_once_and_is_reused(data_dir):
    url = embedded.ensure_redis()
    assert url.startswith("redis://127.0.0.1:")
    client = redis.Redis.from_url(url)
    client.set("kept", "survives")
    pid = (data_dir / "redis" / "redis.pid").read_text()
    assert embedded.ensure_redis() == url
    assert (data_dir / "redis" / "redis.pid").read_text() == pid
    assert embedded.stop_redis() is True
    assert embedded.ensure_redis() == url
    assert redis.Redis.from_url(url).get("kept") == b"survives"


def test_service_env_prefers_configured_servers(monkeypatch, data_dir):
    monkeypatch.setenv("DATABASE_URL", "postgres://elsewhere/db")
    monkeypatch.setenv("REDIS_URL", "redis://elsewhere:6379/0")
    assert embedded.service_env() == {
        "DATABASE_URL": "postgres://elsewhere/db",
        "REDIS_URL": "redis://elsewhere:6379/0",
    }
    assert not (data_dir / "pg").exists()
