import pytest


@pytest.fixture(autouse=True)
def _no_allauth_rate_limits(settings):
    # allauth counts attempts per client address in the shared Redis cache; parallel test workers all
    # come from 127.0.0.1, so these tests switch the limits off (allauth's own suite covers them).
    settings.ACCOUNT_RATE_LIMITS = False
