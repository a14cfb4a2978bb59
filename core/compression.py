"""Compressed HTML, without opening a BREACH.

BREACH recovers a secret from a compressed response's size when the same response also reflects text the
attacker chose. So a response is compressed (Django's GZipMiddleware, which also pads each gzip body with
random bytes — "Heal the Breach") only when it carries no secret worth guessing:

- not when it contains a CSRF token (any POST form: ``csrfmiddlewaretoken``), nor for a signed-in person
  (every page they see carries their session's forms and data);
- not for pages addressed by a secret (a request's status, a checkout, an order, a ticket, a signed
  my-tickets link, a waiting-room or waitlist entry): their body repeats the secret in its links;
- only textual types (HTML, JSON, plain text); static files are compressed ahead of time by WhiteNoise.

What remains is what Lighthouse and most visitors see: the public listings, event pages without a live
sale form, status pages, error pages.
"""

from __future__ import annotations

import re

from django.middleware.gzip import GZipMiddleware

COMPRESSIBLE = ("text/html", "application/json", "text/plain", "application/problem+json")
CSRF_FIELD = b"csrfmiddlewaretoken"
# Public addresses whose path is a secret (the token, code or reference is repeated in the page's links):
# request status pages, and a tenant's checkouts, orders, tickets, my-tickets links, waiting-room entries
# and admissions, waitlist entries.
SECRET_PATHS = re.compile(
    r"^/(status/[^/]+/|[^/]+/(checkout|orders|tickets|my-tickets|line|waitlist)/[^/]+/|"
    r"[^/]+/e/[^/]+/waiting-room/join/)"
)


def may_compress(request, response) -> bool:
    content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type not in COMPRESSIBLE or response.streaming:
        return False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    if SECRET_PATHS.match(request.path):
        return False
    return CSRF_FIELD not in response.content


class SafeGZipMiddleware(GZipMiddleware):
    """GZipMiddleware for the responses :func:`may_compress` allows (see the module docstring)."""

    def process_response(self, request, response):
        if not may_compress(request, response):
            return response
        return super().process_response(request, response)
