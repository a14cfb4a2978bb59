import pytest


@pytest.fixture(autouse=True)
def _generous_lookup_limit(settings):
    settings.RATE_LIMIT_LOOKUPS = "100000/60"
