import zoneinfo

from django import template
from django.utils import dateformat, timezone

register = template.Library()


@register.filter
def get_item(mapping, key):
    """``mapping[key]`` in templates (None when absent)."""
    if mapping is None:
        return None
    return mapping.get(key)


@register.filter
def at_zone(value, zone_name):
    """Format an aware datetime as wall-clock time in ``zone_name`` ("Sun 8 Mar, 11:30"). Formats here, so
    the template engine's own conversion to the current time zone cannot undo the conversion."""
    if value is None:
        return ""
    try:
        zone = zoneinfo.ZoneInfo(str(zone_name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    return dateformat.format(timezone.localtime(value, zone), "D j M Y, H:i")
