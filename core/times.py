"""Times as people read them: in the thing's own time zone, always with that zone's abbreviation.

Every time shown to a user goes through here (the ``{% when %}`` tag and ``|zoned`` filter of
``core.templatetags.vq``, emails and live payloads): an event's times in its venue's zone, a queue's
and a help desk's in the queue's zone (the tenant's when it has none). One ticket's history is in one
zone, its queue's, whoever looks at it.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime

from babel import Locale
from babel.dates import format_date, format_skeleton
from django.utils import dateformat, timezone, translation

DEFAULT_FORMAT = "M j, H:i"


def zone_of(name) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(str(name or "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def zone_abbreviation(value: datetime) -> str:
    """``CET``, ``EDT``, ``UTC``; zones without a letter abbreviation give their offset (``+03``), which
    is spelled ``UTC+03`` so it still reads as a zone."""
    abbreviation = value.tzname() or "UTC"
    if abbreviation[:1] in "+-":
        return f"UTC{abbreviation}"
    return abbreviation


def in_zone(value: datetime, zone_name) -> datetime:
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value.astimezone(zone_of(zone_name))


# Unescaped Django date-format characters that show a time of day, and the zone character.
_TIME_OF_DAY = re.compile(r"(?<!\\)[aABfgGhHiPsuv]")
_ZONE_CHARACTER = re.compile(r"\s*(?<!\\)[TeO](?=[\s,.)]|$)")


# Weekday, day and month written out: Django's format keeps the English order in every language, so
# outside English the active language's own order (CLDR via babel) replaces it: "Donnerstag, 21. Januar
# 2027", "jueves, 21 de enero de 2027".
_LONG_DATES = (("l j F Y", True), ("l j F", False))
_YEAR_AT_END = re.compile(r"[\s,]*(?:'de'\s*)?y+\s*$")


def _localised_long_dates(fmt: str, local: datetime) -> str:
    language = translation.get_language() or "en"
    if language.startswith("en"):
        return fmt
    locale = Locale.parse(translation.to_locale(language))
    full = locale.date_formats["full"].pattern
    for pattern, with_year in _LONG_DATES:
        if pattern in fmt:
            text = format_date(local, full if with_year else _YEAR_AT_END.sub("", full), locale=locale)
            fmt = fmt.replace(pattern, "".join("\\" + character for character in text))
    return fmt


def format_zoned(value: datetime | None, zone_name, fmt: str = DEFAULT_FORMAT) -> str:
    """``Dec 7, 14:05 CET``: ``value`` in ``zone_name`` (an IANA name), Django date format ``fmt``,
    then the zone's abbreviation when the format shows a time of day (a date alone needs none). A zone
    character in ``fmt`` (``T``, ``e``, ``O``) is dropped: the abbreviation always comes last, spelled
    the same everywhere. Empty for None."""
    if value is None:
        return ""
    local = in_zone(value, zone_name)
    if fmt == DEFAULT_FORMAT:
        # The usual short form in the active language's order (CLDR via babel): "Dec 7, 14:05",
        # "7. Dez., 14:05", "7 dic, 14:05". Explicit formats are Django's, whose names are translated too.
        locale = translation.to_locale(translation.get_language() or "en")
        text = (
            f"{format_skeleton('MMMd', local, locale=locale)}, {format_skeleton('Hm', local, locale=locale)}"
        )
        return f"{text} {zone_abbreviation(local)}"
    fmt = _localised_long_dates(_ZONE_CHARACTER.sub("", fmt).strip(), local)
    text = dateformat.format(local, fmt)
    if not _TIME_OF_DAY.search(fmt):
        return text
    return f"{text} {zone_abbreviation(local)}"
