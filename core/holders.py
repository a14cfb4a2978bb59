"""Binding a link to the browser it was issued to.

A checkout (and the admission that opens one) belongs to the browser that started it: its Django session
key is recorded as the holder, and a page opened with the same link from another browser (a forwarded or
leaked URL) is refused without touching the holder's checkout. A signed-in user is the same holder in any
of their browsers. No JavaScript or cookie beyond Django's own session cookie.

A browser session costs nothing to multiply (drop the cookie), so limits that must hold against one
person with a script (open checkouts, unpaid seats) also count by the network address: ``address_key``,
a keyed hash of the real client address (``core.ratelimit.client_address``; an IPv6 address by its /64,
what one subscriber usually gets), so the address itself is never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from django.conf import settings

from core.ratelimit import client_address


def browser_key(request) -> str:
    """The browser's session key, creating the session if it has none yet (a first visit)."""
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key or ""


def is_holder(request, *, holder_key: str, user_id: int | None) -> bool:
    """Whether ``request`` comes from who holds the thing: the same browser session, or the same signed-in
    user. Things issued before holders were recorded (empty key, no user) are open to the link."""
    user = getattr(request, "user", None)
    if user_id is not None and user is not None and user.is_authenticated and user.pk == user_id:
        return True
    if not holder_key:
        return user_id is None
    return request.session.session_key == holder_key


def address_key(request) -> str:
    """A keyed hash naming the client's network (the address; an IPv6 address by its /64 prefix)."""
    text = client_address(request)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        network = text
    else:
        network = str(ipaddress.ip_network(f"{address}/64", strict=False)) if address.version == 6 else text
    secret = f"vq-address:{settings.SECRET_KEY}".encode()
    return hmac.new(secret, network.encode(), hashlib.sha256).hexdigest()[:32]
