"""Human amounts to integer units and back."""

import pytest

from gpu_rwa.types import format_units, parse_units


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
