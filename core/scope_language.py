"""The language of a live page's websocket.

LocaleMiddleware does not run for websockets, so a consumer that writes text (a position, a notice)
would answer in the default language. The page passes the language it was rendered in on the socket's
URL (``?lang=de``, see ``with_language``); the consumer reads it back with ``scope_language`` and writes
its text inside ``translation.override``. Anything unknown falls back to the default language."""

from __future__ import annotations

from urllib.parse import parse_qs

from django.conf import settings
from django.utils import translation


def _known() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


def with_language(path: str) -> str:
    """``path`` with the active language appended (``/ws/x/?lang=de``)."""
    code = (translation.get_language() or "").split("-")[0]
    if code not in _known():
        return path
    return f"{path}{'&' if '?' in path else '?'}lang={code}"


def scope_language(scope) -> str | None:
    """The language a websocket's page asked for, or None (use the default)."""
    query = parse_qs((scope.get("query_string") or b"").decode("latin-1"))
    code = (query.get("lang") or [""])[0].split("-")[0]
    return code if code in _known() else None
