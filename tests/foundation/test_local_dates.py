"""Long dates (weekday, day, month) read in each language's own order, not English's (outside finding F7)."""

from datetime import UTC, datetime

import pytest
from django.utils import translation

from core.times import format_zoned

WHEN = datetime(2027, 1, 21, 19, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "fmt", "expected"),
    [
        ("en", "l j F Y, H:i", "Thursday 21 January 2027, 20:30 CET"),
        ("de", "l j F Y, H:i", "Donnerstag, 21. Januar 2027, 20:30 CET"),
        ("es", "l j F Y, H:i", "jueves, 21 de enero de 2027, 20:30 CET"),
        ("de", "H:i, l j F", "20:30, Donnerstag, 21. Januar CET"),
        ("es", "l j F", "jueves, 21 de enero"),
    ],
)
def test_long_dates_follow_the_language(language, fmt, expected):
    with translation.override(language):
        assert format_zoned(WHEN, "Europe/Berlin", fmt) == expected
