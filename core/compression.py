"""Compressed HTML, without opening a BREACH.

BREACH recovers a secret from the size of compressed responses when the same response also reflects text
the attacker chose (the attacker makes the victim's browser ask many URLs of their choosing and watches
the sizes). So a response is compressed (Django's GZipMiddleware, which also pads each gzip body with
random bytes — "Heal the Breach") only when it holds no stable secret next to attacker-chosen text:

- never for a signed-in person (nor an API call with credentials): what they see carries their own data;
- never for pages addressed by a secret (a request's status, a checkout, an order, a ticket, a signed
  my-tickets link, a waiting-room or waitlist entry): their body repeats the secret in its links;
- never for an error or a redirect (they may echo the address asked for);
- a page with a CSRF token (every page has one: the language switcher posts) is compressed only when
  its request had no query string, i.e. nothing the attacker chose is reflected beside the token. The
  token itself is masked afresh for every response (Django), so it is not a stable secret either; the
  query-string rule is the second guard the brief asks for (search results, which echo the query, go out
  uncompressed);
- only textual types (HTML, JSON, plain text); static files are compressed ahead of time by WhiteNoise.

What is compressed is what Lighthouse and most visitors load: public home, listings, event pages, help
and queue pages, the status lookup.
"""

from __future__ import annotations

import re

from django.middleware.gzip import GZipMiddleware

COMPRESSIBLE = ("text/html", "application/json", "text/plain", "application/problem+json")
CSRF_FIELD = b"csrfmiddlewaretoken"
# Public addresses whose path is a secret (the token, code or reference is repeated in the page's links).
SECRET_PATHS = re.compile(
    r"^/(status/[^/]+/|[^/]+/(checkout|orders|tickets|my-tickets|line|waitlist)/[^/]+/|"
    r"[^/]+/e/[^/]+/waiting-room/join/)"
)


def may_compress(request, response) -> bool:
    content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type not in COMPRESSIBLE or response.streaming or response.status_code != 200:
        return False
    user = getattr(request, "user", None)
    if (user is not None and user.is_authenticated) or "HTTP_AUTHORIZATION" in request.META:
        return False
    if SECRET_PATHS.match(request.path):
        return False
    return not (request.META.get("QUERY_STRING") and CSRF_FIELD in response.content)


class SafeGZipMiddleware(GZipMiddleware):
    """GZipMiddleware for the responses :func:`may_compress` allows (see the module docstring)."""

    def process_response(self, request, response):
        if not may_compress(request, response):
            return response
        return super().process_response(request, response)
