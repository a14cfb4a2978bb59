"""``{% load notifications %}{% delivery_log tenant ticket %}``: the delivery log of one object, for
other apps' staff pages."""

from django import template

from notifications.selectors import delivery_log_for

register = template.Library()


@register.inclusion_tag("notifications/_delivery_log.html")
def delivery_log(tenant, related):
    return {"delivery_log": delivery_log_for(tenant, related), "tenant": tenant}
