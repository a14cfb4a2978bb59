"""The ``vq`` template filters: times shown in the thing's own zone, money."""

import datetime as dt

from django.template import Context, Template
from django.utils import timezone

NOON_UTC = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)


def render(source: str, **context) -> str:
    return Template("{% load vq %}" + source).render(Context(context))


def test_in_zone_survives_the_date_filter_whatever_the_active_zone():
    # The active zone (a visitor's, or the settings default) must not undo the venue's zone.
    with timezone.override("Asia/Tokyo"):
        shown = render("{{ t|in_zone:'America/New_York'|date:'H:i T' }}", t=NOON_UTC)
    assert shown == "08:00 EDT"


def test_in_zone_with_an_unknown_zone_falls_back_to_the_active_zone():
    with timezone.override("UTC"):
        assert render("{{ t|in_zone:'Mars/Olympus'|date:'H:i' }}", t=NOON_UTC) == "12:00"


def test_in_zone_of_nothing_is_empty():
    assert render("{{ t|in_zone:'Europe/Paris' }}", t=None) == ""


def test_money_formats_cents():
    assert render("{{ c|money:'EUR' }}", c=123456) == "€1,234.56"
    assert render("{{ c|money }}", c=None) == ""
