"""Per-view widenings of the site's Content-Security-Policy (settings.CONTENT_SECURITY_POLICY).

The site policy allows scripts, styles and connections to our own origin only. A view that must load a
third party's code says so with one of these decorators, so the exception is visible where it is needed
and nowhere else: the rest of the site keeps the strict policy."""

from __future__ import annotations

from csp.decorators import csp_update

# Stripe.js and the frames it opens (card element, 3-D Secure): https://docs.stripe.com/security/guide#content-security-policy
STRIPE_SOURCES = {
    "script-src": ["https://js.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
}


def allow_stripe(view):
    """Let this view's page load Stripe.js (``<script src="https://js.stripe.com/v3/">``); use it on the
    payment step only."""
    return csp_update(STRIPE_SOURCES)(view)


def allow_stripe_on(response):
    """The same widening as ``allow_stripe``, for a view that loads Stripe.js on some of its responses
    only (the card step when a payment is open, a request form when the creator takes card tips): every
    other response of that view keeps the strict policy. Returns ``response``."""
    response._csp_update = STRIPE_SOURCES  # what csp_update sets; read by CSPMiddleware
    return response
