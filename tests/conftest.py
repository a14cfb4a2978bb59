import pytest

from tenants.models import Role
from tests import factories


def pytest_configure(config):
    # Translation catalogs (.po → .mo, babel) for targeted runs too; make test compiled them already.
    if not hasattr(config, "workerinput"):
        from core.catalogs import compile_all

        compile_all()


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    # Plain static storage: tests must not depend on collectstatic having run.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Every test Client builds a new handler, and WhiteNoise scans all of STATIC_ROOT when its middleware is
    # built (~0.2 s each on a loaded machine); with autorefresh it looks a file up only when one is asked for.
    settings.WHITENOISE_AUTOREFRESH = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # The limiter counts in Redis, shared by every test (and worker) on 127.0.0.1: the submission limits
    # are switched off here and tested on their own (tests/reliability/test_abuse_limits.py).
    settings.RATE_LIMIT_SUBMISSIONS = "1000000/600"
    settings.RATE_LIMIT_SUBMISSIONS_PER_EMAIL = "1000000/600"


@pytest.fixture
def tenant(db):
    return factories.TenantFactory()


@pytest.fixture
def other_tenant(db):
    return factories.TenantFactory()


@pytest.fixture
def owner(tenant):
    return factories.MembershipFactory(tenant=tenant, role=Role.OWNER).user


@pytest.fixture
def manager(tenant):
    return factories.MembershipFactory(tenant=tenant, role=Role.MANAGER).user


@pytest.fixture
def staff(tenant):
    return factories.MembershipFactory(tenant=tenant, role=Role.STAFF).user


@pytest.fixture
def outsider(other_tenant):
    """A member of another tenant: must see nothing of ``tenant``."""
    return factories.MembershipFactory(tenant=other_tenant, role=Role.OWNER).user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


@pytest.fixture
def in_memory_channels(settings):
    """A private channel layer: parallel test workers share Redis and their group names can coincide."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A test that activates a language (``translation.activate``) does not leave it to the next test in
    the same worker: lazy texts compared later would be evaluated in that language."""
    yield
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
