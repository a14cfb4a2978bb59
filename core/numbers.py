"""Whole numbers read straight from a request (ids in a button's value, a priority in a table of inputs):
ASCII digits only and inside a range, else the caller's default. ``str.isdigit`` is not enough: it is
true for "²" and "١٢", which ``int`` then refuses or reads, and a 40-digit id overflows the database's
bigint (a 500 instead of "choose someone")."""

from __future__ import annotations

MAX_ID = 2**63 - 1


def whole_number(text, *, low: int = 0, high: int = MAX_ID, default: int | None = None) -> int | None:
    text = str(text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return default
    value = int(text)
    return value if low <= value <= high else default


def set_range(field, low, high) -> None:
    """Give a numeric form field (often one a ModelForm made from a model field) the range ``low..high``:
    the validators that give a field error, and the ``min``/``max`` the browser shows."""
    from django.core.validators import MaxValueValidator, MinValueValidator

    field.min_value, field.max_value = low, high
    field.validators = [
        validator
        for validator in field.validators
        if not isinstance(validator, MinValueValidator | MaxValueValidator)
    ] + [MinValueValidator(low), MaxValueValidator(high)]
    field.widget.attrs.update({"min": low, "max": high})
