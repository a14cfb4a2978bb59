"""Due-time arithmetic: nights, weekends, holidays and DST changes, on UTC instants."""

import zoneinfo
from datetime import UTC, date, datetime, time

import pytest

from support.business_hours import Schedule, add_business_time, business_seconds_between

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
OFFICE = {day: ((time(9), time(17)),) for day in range(5)}  # Mon–Fri 09:00–17:00


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def local(zone, *args):
    return datetime(*args, tzinfo=zone).astimezone(UTC)


def test_within_the_same_day():
    schedule = Schedule(zone=BERLIN, hours=OFFICE)
    start = local(BERLIN, 2026, 1, 14, 10, 0)  # Wednesday 10:00
    assert add_business_time(schedule, start, 3 * 3600) == local(BERLIN, 2026, 1, 14, 13, 0)


def test_across_a_night():
    schedule = Schedule(zone=BERLIN, hours=OFFICE)
    start = local(BERLIN, 2026, 1, 14, 16, 0)  # Wednesday 16:00, 1 h left today
    assert add_business_time(schedule, start, 3 * 3600) == local(BERLIN, 2026, 1, 15, 11, 0)


def test_submitted_at_night_starts_at_opening():
    schedule = Schedule(zone=BERLIN, hours=OFFICE)
    start = local(BERLIN, 2026, 1, 14, 22, 30)
    assert add_business_time(schedule, start, 3600) == local(BERLIN, 2026, 1, 15, 10, 0)


def test_across_a_weekend():
    schedule = Schedule(zone=BERLIN, hours=OFFICE)
    start = local(BERLIN, 2026, 1, 16, 15, 0)  # Friday 15:00
    assert add_business_time(schedule, start, 4 * 3600) == local(BERLIN, 2026, 1, 19, 11, 0)  # Monday


def test_across_a_holiday():
    schedule = Schedule(zone=BERLIN, hours=OFFICE, holidays=frozenset({date(2026, 1, 19)}))
    start = local(BERLIN, 2026, 1, 16, 15, 0)  # Friday 15:00, Monday is a holiday
    assert add_business_time(schedule, start, 4 * 3600) == local(BERLIN, 2026, 1, 20, 11, 0)  # Tuesday


def test_across_the_spring_dst_change():
    # Berlin moves from UTC+1 to UTC+2 on Sunday 29 March 2026. Friday 16:00 CET + 2 business hours:
    # one hour on Friday, one on Monday → Monday 10:00 CEST = 08:00 UTC (not 09:00 UTC).
    schedule = Schedule(zone=BERLIN, hours=OFFICE)
    start = local(BERLIN, 2026, 3, 27, 16, 0)
    assert start == utc(2026, 3, 27, 15, 0)
    assert add_business_time(schedule, start, 2 * 3600) == utc(2026, 3, 30, 8, 0)


def test_across_the_autumn_dst_change_in_new_york():
    # New York moves from UTC-4 to UTC-5 on Sunday 1 November 2026.
    schedule = Schedule(zone=NEW_YORK, hours=OFFICE)
    start = local(NEW_YORK, 2026, 10, 30, 16, 30)  # Friday 16:30 EDT = 20:30 UTC
    assert add_business_time(schedule, start, 3600) == utc(2026, 11, 2, 14, 30)  # Monday 09:30 EST


def test_around_the_clock_counts_real_elapsed_time_over_dst():
    # No hours: open 24/7. The night of the change has 23 real hours; 4 business hours are 4 real ones.
    schedule = Schedule(zone=BERLIN)
    start = local(BERLIN, 2026, 3, 28, 23, 0)  # 22:00 UTC
    assert add_business_time(schedule, start, 4 * 3600) == utc(2026, 3, 29, 2, 0)  # 04:00 CEST
    assert business_seconds_between(schedule, start, utc(2026, 3, 29, 2, 0)) == 4 * 3600


def test_business_seconds_between_skips_nights_weekends_and_holidays():
    schedule = Schedule(zone=BERLIN, hours=OFFICE, holidays=frozenset({date(2026, 1, 19)}))
    start = local(BERLIN, 2026, 1, 16, 16, 0)  # Friday 16:00
    end = local(BERLIN, 2026, 1, 20, 10, 30)  # Tuesday 10:30 (Monday a holiday)
    assert business_seconds_between(schedule, start, end) == 2.5 * 3600
    assert business_seconds_between(schedule, end, start) == -2.5 * 3600


def test_split_days_and_midnight_closing():
    hours = {0: ((time(8), time(12)), (time(13), time(0)))}  # Monday 08–12 and 13–24
    schedule = Schedule(zone=BERLIN, hours=hours)
    start = local(BERLIN, 2026, 1, 12, 11, 0)
    assert add_business_time(schedule, start, 2 * 3600) == local(BERLIN, 2026, 1, 12, 14, 0)
    # 1 h before lunch + 11 h until midnight = 12 h → exactly midnight; one more hour → next Monday 09:00.
    assert add_business_time(schedule, start, 12 * 3600) == local(BERLIN, 2026, 1, 13, 0, 0)
    assert add_business_time(schedule, start, 13 * 3600) == local(BERLIN, 2026, 1, 19, 9, 0)


def test_never_open_is_an_error():
    schedule = Schedule(zone=BERLIN, hours={0: ((time(9), time(17)),)}, holidays=frozenset())
    every_day = frozenset(date.fromordinal(date(2026, 1, 1).toordinal() + i) for i in range(3 * 366 + 7))
    schedule_all_holidays = Schedule(zone=BERLIN, hours={0: ((time(9), time(17)),)}, holidays=every_day)
    assert add_business_time(schedule, local(BERLIN, 2026, 1, 14, 9), 60)
    with pytest.raises(ValueError):
        add_business_time(schedule_all_holidays, local(BERLIN, 2026, 1, 1, 9), 60)
