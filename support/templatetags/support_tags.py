from django import template

from core.times import format_zoned

register = template.Library()


@register.filter
def get_item(mapping, key):
    """``mapping[key]`` in templates (None when absent)."""
    if mapping is None:
        return None
    return mapping.get(key)


@register.filter
def at_zone(value, zone_name):
    """An aware datetime as wall-clock time in ``zone_name`` with its abbreviation ("Sun 8 Mar 2026,
    11:30 CET"): ``core.times.format_zoned``, like every other time shown."""
    if value is None:
        return ""
    return format_zoned(value, zone_name, "D j M Y, H:i")
