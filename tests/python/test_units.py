"""Human amounts to integer units and back."""

import pytest

from gpu_rwa.collateral import Terms, line_value
from gpu_rwa.types import SECONDS_PER_DAY as DAY
from gpu_rwa.types import ceil_day, floor_day, format_age, format_units, parse_units


@pytest.mark.parametrize(
    ("text", "decimals", "units"),
    [("1000.50", 6, 1_000_500_000), ("0", 6, 0), ("1_000", 0, 1000), ("0.000001", 6, 1)],
)
def test_parse_units(text, decimals, units):
    assert parse_units(text, decimals) == units


@pytest.mark.parametrize("text", ["-1", "1e6", "abc", "", "1.2.3", "0.0000001"])
def test_parse_units_refuses(text):
    with pytest.raises(ValueError):
        parse_units(text, 6)


def test_format_units():
    assert format_units(1_000_500_000, 6) == "1,000.500000"
    assert format_units(7, 0) == "7"


def test_day_grid():
    midnight = 1_796_083_200  # 2026-12-01 00:00 UTC
    assert (floor_day(midnight), ceil_day(midnight)) == (midnight, midnight)
    assert (floor_day(midnight + 1), ceil_day(midnight + 1)) == (midnight, midnight + DAY)
    assert (floor_day(midnight - 1), ceil_day(midnight - 1)) == (midnight - DAY, midnight)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0d 0h"), (3_599, "0d 0h"), (DAY + 7_200, "1d 2h"), (-5, "0d 0h")]
)
def test_format_age(seconds, text):
    assert format_age(seconds) == text


def test_line_value_follows_the_day_grid():
    """Cost 30,000 at 80 %: 24,000 at acquisition; the line reaches salvage (2,400 at 80 %) at the
    UTC midnight on or before the end of life, its slope rounded up (value rounded down)."""
    acquired_at = 1_796_083_200 + 3_600  # 01:00 UTC
    terms = Terms(
        owner="0x" + "00" * 20,
        cost=30_000 * 10**6,
        salvage=3_000 * 10**6,
        acquired_at=acquired_at,
        useful_life=10 * DAY,
        status=1,
        last_attested_at=acquired_at,
    )
    end = acquired_at - 3_600 + 10 * DAY  # 1 hour early: the grid day
    assert line_value(terms, acquired_at, 8_000) == 24_000 * 10**6
    assert line_value(terms, end, 8_000) == 2_400 * 10**6
    assert line_value(terms, end + 10 * DAY, 8_000) == 2_400 * 10**6
    fall = -(-27_000 * 10**6 * 10**18 // (end - acquired_at))
    halfway = acquired_at + (end - acquired_at) // 2
    expected = (30_000 * 10**6 * 10**18 - fall * (halfway - acquired_at)) * 8_000 // 10**22
    assert line_value(terms, halfway, 8_000) == expected
    assert 13_200 * 10**6 - 1 <= expected <= 13_200 * 10**6
