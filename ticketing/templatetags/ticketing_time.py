"""``{% at value zone "format" %}``: an aware datetime in an IANA zone (the venue's), with the zone's
abbreviation — ``core.times.format_zoned``, the one formatter every page uses (``{% when %}`` in
``core.templatetags.vq`` is the same with a ``<time>`` element around it)."""

from django import template

from core.times import format_zoned

register = template.Library()


@register.simple_tag
def at(value, zone_name, fmt="D j M Y, H:i"):
    if value is None:
        return ""
    return format_zoned(value, zone_name, fmt)
