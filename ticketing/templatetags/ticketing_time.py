"""``{% at value zone "format" %}``: format an aware datetime in an IANA zone (the venue's).

Why not ``value|in_zone:zone|date:"…"``: Django's ``date`` filter converts aware datetimes back to the
*current* time zone (UTC here) before formatting, undoing the conversion. This tag formats in the zone
itself, so ``T`` prints the right abbreviation on either side of a DST change (GMT / BST)."""

import zoneinfo

from django import template
from django.utils import dateformat, timezone

register = template.Library()


@register.simple_tag
def at(value, zone_name, fmt="D j M Y, H:i T"):
    if value is None:
        return ""
    try:
        zone = zoneinfo.ZoneInfo(str(zone_name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = timezone.get_current_timezone()
    return dateformat.format(timezone.localtime(value, zone), fmt)
