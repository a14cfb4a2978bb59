import pytest


@pytest.fixture(autouse=True)
def _generous_lookup_limit(settings):
    # The status-page limiter counts per client address in the shared Redis; tests that exercise it set
    # their own limit and address.
    settings.RATE_LIMIT_LOOKUPS = "100000/60"


@pytest.fixture
def in_memory_channels(settings):
    """A private channel layer: parallel test workers share Redis and their queue ids can coincide."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
