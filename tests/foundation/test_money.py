from decimal import Decimal

import pytest

from core.money import format_money, parse_money, percent_of


@pytest.mark.parametrize(
    ("amount", "rate", "expected"),
    [
        (1000, "7.5", 75),
        (1, "50", 1),
        (3, "50", 2),
        (999, Decimal("19"), 190),
        (0, "10", 0),
        (1005, "10", 101),
    ],
)
def test_percent_rounds_half_up(amount, rate, expected):
    assert percent_of(amount, rate) == expected


def test_format_and_parse():
    assert format_money(123456, "USD") == "$1,234.56"
    assert format_money(500, "JPY") == "¥500"
    assert format_money(250, "INR") == "2.50 INR"
    assert parse_money("12.5") == 1250
    with pytest.raises(ValueError):
        parse_money("-1")
