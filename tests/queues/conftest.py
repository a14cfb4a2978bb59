import pytest


@pytest.fixture(autouse=True)
def _generous_lookup_limit(settings):
    # The status-page limiter counts per client address in the shared Redis; tests that exercise it set
    # their own limit and address.
    settings.RATE_LIMIT_LOOKUPS = "100000/60"
