"""Binding a link to the browser it was issued to.

A checkout (and the admission that opens one) belongs to the browser that started it: its Django session
key is recorded as the holder, and a page opened with the same link from another browser (a forwarded or
leaked URL) is refused without touching the holder's checkout. A signed-in user is the same holder in any
of their browsers. No JavaScript or cookie beyond Django's own session cookie.
"""

from __future__ import annotations


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
