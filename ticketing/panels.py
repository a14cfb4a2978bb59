"""Event-page panels: the extension point through which other apps add a piece to ticketing's public event
page without ticketing importing them (waitlists registers its "join the waitlist" panel in its
``AppConfig.ready``).

A panel is ``panel(request, event) -> str`` (rendered HTML, from the app's own template, or ``""``) and is
registered for a named place on the page:

- ``"sold_out"``: shown while the sale is open and nothing is left (where a buyer looks for what to do next).

Panels are read-only: they run while the page renders, outside any transaction, and must not write.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from django.utils.safestring import SafeString, mark_safe

PLACES = ("sold_out",)
_panels: dict[str, list[Callable]] = defaultdict(list)


def register_event_panel(place: str, panel: Callable) -> None:
    if place not in PLACES:
        raise ValueError(f"Unknown event-page place {place!r}; known: {', '.join(PLACES)}.")
    if panel not in _panels[place]:
        _panels[place].append(panel)


def render_event_panels(request, event) -> dict[str, list[SafeString]]:
    """Every place's panels for ``event``, rendered (empty answers left out)."""
    rendered: dict[str, list[SafeString]] = {}
    for place in PLACES:
        parts = [panel(request, event) for panel in _panels[place]]
        rendered[place] = [mark_safe(part) for part in parts if part]  # noqa: S308 - the apps' own templates
    return rendered
