from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from core.money import format_money, major_text, minor_digits, parse_money, percent_of


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
    assert format_money(250, "INR") == "₹2.50"
    assert parse_money("12.5") == 1250
    with pytest.raises(ValueError):
        parse_money("-1")


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "€1,234.50"), ("de", "1.234,50\xa0€"), ("es", "1.234,50\xa0€")],
)
def test_money_reads_as_each_language_writes_it(language, expected):
    with translation.override(language):
        assert format_money(123450, "EUR") == expected
        # The template filter is the same function in the active language.
        assert (
            Template("{% load vq %}{{ amount|money:'EUR' }}").render(Context({"amount": 123450})) == expected
        )


def test_minor_units_per_currency_from_cldr():
    assert (minor_digits("JPY"), minor_digits("EUR"), minor_digits("KWD")) == (0, 2, 3)
    assert format_money(123456, "JPY") == "¥123,456"
    assert format_money(1234505, "KWD") == "KWD1,234.505"
    with translation.override("de"):
        assert format_money(123456, "JPY") == "123.456\xa0¥"
        assert format_money(1234505, "KWD") == "1.234,505\xa0KWD"
    assert (major_text(500, "JPY"), major_text(1250, "EUR"), major_text(1500, "KWD")) == (
        "500",
        "12.50",
        "1.500",
    )


def test_parsing_follows_the_currency_decimals():
    assert parse_money("500", "JPY") == 500
    assert parse_money("12,505", "KWD") == 12505
    assert parse_money("12.5", "KWD") == 12500
    assert parse_money(major_text(1500, "KWD"), "KWD") == 1500  # a form's initial value reads back
    with pytest.raises(ValueError, match="whole amount"):
        parse_money("5.5", "JPY")
    with pytest.raises(ValueError, match="5.500"):
        parse_money("5.5055", "KWD")
    with pytest.raises(ValueError):
        parse_money("1,000", "EUR")  # thousands separators are refused, not guessed


def test_parse_errors_speak_the_active_language():
    with translation.override("de"), pytest.raises(ValueError) as error:
        parse_money("x", "EUR")
    assert "5,50" in str(error.value)
