"""Checkout sources: the extension point through which an app that opens checkouts for its own reasons
(the waiting room's admissions) takes part in them without ticketing importing it. The app registers its
source kind (a ``SessionSource`` value) in its ``AppConfig.ready``:

    register_checkout_source(SessionSource.WAITING_ROOM, on_open=..., on_complete=...)

Both hooks are called by ``ticketing.services`` inside its own transaction, with the session in hand:

- ``on_open(session)``: in ``checkout_open``, after the buyer's open-checkout check and the checkout slot
  claim (lock-order step 1), before the session row is inserted. It may lock its own rows and may raise a
  DomainError (``PermissionDenied``, …), which rolls the opening back: nothing is held.
- ``on_complete(session)``: in the completion of a checkout (its session row locked), after the order and
  its tickets are written, just before the session row is marked completed. It may lock and write
  its own rows in the same transaction (the purchase and the source's record of it commit together).

Hooks run only for sessions of their own kind. They never reach back into ticketing's rows except
through ticketing's own services and selectors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CheckoutSource:
    kind: str
    on_open: Callable | None = None
    on_complete: Callable | None = None


_sources: dict[str, CheckoutSource] = {}


def register_checkout_source(
    kind: str, *, on_open: Callable | None = None, on_complete: Callable | None = None
):
    _sources[kind] = CheckoutSource(kind=kind, on_open=on_open, on_complete=on_complete)


def opening(session) -> None:
    source = _sources.get(session.source)
    if source and source.on_open:
        source.on_open(session)


def completing(session) -> None:
    source = _sources.get(session.source)
    if source and source.on_complete:
        source.on_complete(session)
