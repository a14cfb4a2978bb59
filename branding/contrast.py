"""WCAG 2.x contrast: relative luminance and contrast ratio of sRGB colours, and the rule for the accent.

The accent colour (``--brand`` in static/css/app.css) is used as text and borders on the page and card
backgrounds (links, secondary buttons) and as the background of white button text, so it must reach
AA for normal text (4.5:1) against each of those colours.
"""

from __future__ import annotations

import re

from babel.numbers import format_decimal
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.money import format_number, locale_name

AA_NORMAL_TEXT = 4.5
# The colours the accent meets in app.css: --card and button text (#fff), the page (--bg).
ACCENT_USED_WITH = {"#ffffff": _("white text and cards"), "#f6f7fb": _("the page background")}
HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def ratio_text(ratio: float) -> str:
    """A contrast ratio with two decimals in the active language ("4.54" / "4,54")."""
    return format_decimal(round(ratio, 2), format="0.00", locale=locale_name())


def accent_problems(hex_colour: str) -> list[str]:
    """Why ``hex_colour`` cannot be the accent (empty when it can)."""
    if not HEX.match(hex_colour or ""):
        return [gettext("Enter a colour as # and six hex digits, for example #1c7ed6.")]
    problems = []
    for other, used_with in ACCENT_USED_WITH.items():
        ratio = contrast_ratio(hex_colour, other)
        if ratio < AA_NORMAL_TEXT:
            problems.append(
                gettext(
                    "Contrast with %(used_with)s (%(colour)s) is %(ratio)s:1; WCAG AA needs %(needed)s:1. "
                    "Choose a darker colour."
                )
                % {
                    "used_with": used_with,
                    "colour": other,
                    "ratio": ratio_text(ratio),
                    "needed": format_number(AA_NORMAL_TEXT),
                }
            )
    return problems


def accent_is_readable(hex_colour: str) -> bool:
    return not accent_problems(hex_colour)
