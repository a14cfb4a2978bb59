"""Business-hours arithmetic for due times (turnaround counted only while the help desk is open).

A :class:`Schedule` is a time zone, opening intervals per weekday (local wall-clock times) and holiday
dates. Intervals are built day by day in the queue's zone and converted to UTC *before* any arithmetic,
so a DST change shortens or lengthens the real day correctly (Python subtracts aware datetimes that share
a tzinfo by wall clock, which would be an hour off across a change). A schedule without any intervals is
open around the clock (holidays still close it). Nothing here touches the database.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.utils.translation import gettext

MAX_DAYS = 3 * 366  # search horizon: a schedule that never opens is an error, not an endless loop
ALL_DAY = ((time(0), time(0)),)


@dataclass(frozen=True)
class Schedule:
    zone: zoneinfo.ZoneInfo
    # weekday (Monday = 0) → ((opens, closes), …) in local time; closes == 00:00 means midnight.
    hours: dict[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()

    @property
    def around_the_clock(self) -> bool:
        return not any(self.hours.values())

    def day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open intervals of local ``day`` as UTC (start, end) pairs, in order."""
        if day in self.holidays:
            return []
        spans = ALL_DAY if self.around_the_clock else self.hours.get(day.weekday(), ())
        result = []
        for opens, closes in sorted(spans):
            start = datetime.combine(day, opens, tzinfo=self.zone).astimezone(UTC)
            end_day = day + timedelta(days=1) if closes == time(0) else day
            end = datetime.combine(end_day, closes, tzinfo=self.zone).astimezone(UTC)
            if end > start:
                result.append((start, end))
        return result

    def intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals (UTC) that end after ``moment``, clipped to start no earlier than it."""
        moment = moment.astimezone(UTC)
        day = moment.astimezone(self.zone).date() - timedelta(days=1)
        for offset in range(MAX_DAYS):
            for start, end in self.day_intervals(day + timedelta(days=offset)):
                if end <= moment:
                    continue
                yield max(start, moment), end
        raise ValueError(gettext("This schedule is never open: add opening hours or remove holidays."))

    def is_open(self, moment: datetime) -> bool:
        moment = moment.astimezone(UTC)
        day = moment.astimezone(self.zone).date()
        return any(
            start <= moment < end
            for d in (day - timedelta(days=1), day)
            for start, end in self.day_intervals(d)
        )


def add_business_time(schedule: Schedule, start: datetime, seconds: float) -> datetime:
    """The moment ``seconds`` of open time after ``start`` (UTC). Zero seconds → the next open moment,
    or ``start`` itself while open."""
    if seconds < 0:
        raise ValueError(gettext("Use a non-negative amount of business time."))
    remaining = timedelta(seconds=seconds)
    for begin, end in schedule.intervals_from(start):
        available = end - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise AssertionError("unreachable")  # pragma: no cover - intervals_from raises first


def business_seconds_between(schedule: Schedule, start: datetime, end: datetime) -> float:
    """Open time between ``start`` and ``end`` in seconds; negative when ``end`` is before ``start``."""
    if end < start:
        return -business_seconds_between(schedule, end, start)
    total = 0.0
    end = end.astimezone(UTC)
    for begin, finish in schedule.intervals_from(start):
        if begin >= end:
            break
        total += (min(finish, end) - begin).total_seconds()
    return total
