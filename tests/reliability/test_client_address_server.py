"""The client address under the real server, run as the Procfile runs it: a made-up X-Forwarded-For from
a client that is not a trusted proxy gets no fresh rate-limit bucket. (With daphne's --proxy-headers the
server itself believed the header from anyone, so every spoofed request counted as a new person; the
app now reads the header only from ``TRUSTED_PROXIES``.)"""

from __future__ import annotations

import pytest

from tests.reliability.conftest import Http

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_spoofed_forwarded_for_gets_no_fresh_bucket(processes):
    web = processes.daphne("web-1", env={"TRUSTED_PROXIES": "", "RATE_LIMIT_LOOKUPS": "3/60"})
    codes = [
        Http(web.port, client_address=f"203.0.113.{n}").get("/status/AAA-BBB-CCC-DDD/").status
        for n in range(1, 6)
    ]
    # All five count against the one real address (127.0.0.1, which other tests may have used in this
    # minute too): at most three get through and the last is refused. Spoofing would give five 404s.
    assert codes.count(404) <= 3 and codes[-1] == 429, codes


def test_a_trusted_proxy_keeps_people_apart(processes):
    web = processes.daphne("web-1", env={"TRUSTED_PROXIES": "127.0.0.1", "RATE_LIMIT_LOOKUPS": "3/60"})
    codes = [
        Http(web.port, client_address=f"198.51.100.{n}").get("/status/AAA-BBB-CCC-DDD/").status
        for n in range(201, 206)
    ]
    assert codes == [404] * 5
