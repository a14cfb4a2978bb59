import pytest

from api.services import api_key_create
from tenants.models import Role
from tests import factories


@pytest.fixture(autouse=True)
def _api_limits(settings):
    # Every test process talks from 127.0.0.1 and shares Redis: keep the limits out of the way, except
    # in the tests that set their own.
    settings.API_RATE_LIMIT = "100000/60"
    settings.API_PUBLIC_RATE_LIMIT = "100000/60"


def make_key(tenant, scopes=("read", "write", "check_in"), *, owner=None):
    owner = owner or factories.MembershipFactory(tenant=tenant, role=Role.OWNER).user
    key, secret = api_key_create(tenant=tenant, actor=owner, name="Box office", scopes=list(scopes))
    return key, secret


class ApiClient:
    """A Django test client that sends one API key (JSON in, JSON out)."""

    def __init__(self, client, secret: str | None):
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}

    def get(self, path, data=None, **extra):
        return self.client.get(path, data, **self.headers, **extra)

    def post(self, path, data=None, *, key=None, **extra):
        if key is not None:
            extra["HTTP_IDEMPOTENCY_KEY"] = key
        return self.client.post(path, data or {}, content_type="application/json", **self.headers, **extra)

    def put(self, path, data=None, **extra):
        return self.client.put(path, data or {}, content_type="application/json", **self.headers, **extra)


@pytest.fixture
def api_key(tenant):
    return make_key(tenant)


@pytest.fixture
def api(client, api_key):
    return ApiClient(client, api_key[1])


@pytest.fixture
def other_api(client, other_tenant):
    """A full-scope key of ANOTHER tenant: must get 404 for everything of ``tenant``."""
    return ApiClient(client, make_key(other_tenant)[1])


@pytest.fixture
def anon_api(client):
    return ApiClient(client, None)
