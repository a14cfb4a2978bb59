"""Template helpers: money and times in the thing's own time zone."""

import zoneinfo

from django import template
from django.templatetags.tz import do_timezone
from django.utils.html import format_html

from core.money import format_money
from core.times import DEFAULT_FORMAT, format_zoned

register = template.Library()


@register.filter
def money(amount_cents, currency="USD"):
    if amount_cents is None:
        return ""
    return format_money(int(amount_cents), currency)


@register.filter
def in_zone(value, zone_name):
    """Convert an aware datetime into ``zone_name`` (an IANA name) for display."""
    if value is None:
        return ""
    try:
        zone = zoneinfo.ZoneInfo(str(zone_name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return value
    # ``do_timezone`` marks the result so that ``|date`` (which expects local time) does not convert it
    # back into the active time zone; a plain ``localtime`` would be undone by the next filter.
    return do_timezone(value, zone)


@register.simple_tag
def when(value, zone_name, fmt=DEFAULT_FORMAT):
    """``{% when event.starts_at venue.time_zone "D, M j, H:i" %}`` → ``<time datetime="…">Sat, Dec 12,
    20:00 CET</time>``: the one way a page shows a time (its thing's zone, with the abbreviation)."""
    if value is None:
        return ""
    text = format_zoned(value, zone_name, fmt)
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), text)


@register.filter
def zoned(value, zone_name):
    """``{{ value|zoned:queue.time_zone }}`` → ``Dec 7, 14:05 CET`` (plain text: emails, titles)."""
    if value is None or value == "":
        return ""
    return format_zoned(value, zone_name)


@register.filter
def mask_email(value):
    """``jane.doe@example.com`` → ``j•••@example.com``: pages opened by a link (which can be forwarded or
    leak) show enough for the holder to recognise their address, not the address itself."""
    text = str(value or "")
    local, at, domain = text.partition("@")
    if not at:
        return "•••" if text else ""
    return f"{local[:1]}•••@{domain}"
