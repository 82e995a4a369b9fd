"""Inventory files: every row validated with its line number before anything is sent."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from eth_utils import keccak

from gpu_rwa.errors import UserError
from gpu_rwa.inventory import inventory_specs, load_inventory
from gpu_rwa.types import SECONDS_PER_YEAR

HEADER = "serial,model,data_centre,acquisition_cost,acquired_at,useful_life_years,salvage_value\n"
GOOD_ROW = "SN-1,NVIDIA H100 SXM5 80GB,Equinix DC11,30000.50,2025-03-01,5,3000\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_row_becomes_registry_spec(tmp_path):
    (entry,) = load_inventory(write(tmp_path, "a.csv", HEADER + GOOD_ROW))
    assert entry.line == 2
    assert entry.row.to_spec(6) == {
        "model": "NVIDIA H100 SXM5 80GB",
        "serial_hash": keccak(text="SN-1"),
        "data_centre": "Equinix DC11",
        "acquisition_cost": 30_000_500_000,
        "acquired_at": int(datetime(2025, 3, 1, tzinfo=UTC).timestamp()),
        "useful_life": 5 * SECONDS_PER_YEAR,
        "salvage_value": 3_000_000_000,
    }


def test_yaml_inventory_with_line_numbers(tmp_path):
    text = """\
- serial: SN-1
  model: H100
  data_centre: DC1
  acquisition_cost: 30000
  acquired_at: 2025-03-01T12:00:00Z
  useful_life_years: 4.5
  salvage_value: 0
- serial: SN-2
  model: H100
  data_centre: DC1
  acquisition_cost: "30000.000001"
  acquired_at: 2025-03-01
  useful_life_years: 5
  salvage_value: 1
"""
    first, second = load_inventory(write(tmp_path, "a.yaml", text))
    assert (first.line, second.line) == (1, 8)
    assert first.row.to_spec(6)["useful_life"] == int(4.5 * SECONDS_PER_YEAR)
    assert second.row.to_spec(6)["acquisition_cost"] == 30_000_000_001


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("SN-1,H100,DC1,-5,2025-03-01,5,0", "acquisition_cost: not a plain non-negative number"),
        ("SN-1,H100,DC1,1e5,2025-03-01,5,0", "acquisition_cost: not a plain non-negative number"),
        ("SN-1,H100,DC1,0,2025-03-01,5,0", "acquisition_cost: Input should be greater than 0"),
        ("SN-1,H100,DC1,100,2025-03-01,5,101", "salvage_value exceeds acquisition_cost"),
        ("SN-1,H100,DC1,100,not-a-date,5,0", "acquired_at: Input should be a valid datetime"),
        ("SN-1,H100,DC1,100,2025-03-01,0,0", "useful_life_years: Input should be greater than 0"),
        ("SN-1,H100,DC1,100,2025-03-01,31,0", "useful_life_years: Input should be less than"),
        ('SN-1,"H100 ""SXM""",DC1,100,2025-03-01,5,0', "model: character '\"' not allowed"),
        ("SN-1,,DC1,100,2025-03-01,5,0", "model: String should have at least 1 character"),
        (
            "SN-1,H100," + "D" * 33 + ",100,2025-03-01,5,0",
            "data_centre: String should have at most",
        ),
    ],
)
def test_bad_row_is_named_with_its_line(tmp_path, row, message):
    path = write(tmp_path, "bad.csv", HEADER + GOOD_ROW + row + "\n")
    with pytest.raises(UserError) as error:
        load_inventory(path)
    assert error.value.message.startswith(f"{path}:3: {message}")
    assert error.value.message.endswith(" (nothing sent)")
    assert "\n" not in error.value.message


# 2**96 base units of a 6-decimal stablecoin: the most any amount may be (types.MAX_MONEY).
MAX_MONEY_6 = "79,228,162,514,264,337,593,543.950336"


@pytest.mark.parametrize(
    ("cost", "salvage", "message"),
    [
        ("1000.1234567", "0", "acquisition_cost: '1000.1234567' has more than 6 decimal places"),
        ("1000", "0.0000001", "salvage_value: '0.0000001' has more than 6 decimal places"),
        (
            "1" + "0" * 30,
            "0",
            f"acquisition_cost: '1{'0' * 30}' is absurdly large (at most {MAX_MONEY_6})",
        ),
    ],
)
def test_an_amount_the_stablecoin_cannot_hold_names_its_row_and_column(
    tmp_path, cost, salvage, message
):
    path = write(
        tmp_path, "a.csv", HEADER + GOOD_ROW + f"SN-2,H100,DC1,{cost},2025-03-01,5,{salvage}\n"
    )
    entries = load_inventory(path)  # the file is well formed: the stablecoin is not known yet

    with pytest.raises(UserError) as error:
        inventory_specs(path, entries, 6)

    assert error.value.message == f"{path}:3: {message} (nothing sent)"


def test_amounts_fit_a_stablecoin_of_more_decimals(tmp_path):
    path = write(tmp_path, "a.csv", HEADER + "SN-2,H100,DC1,1000.1234567,2025-03-01,5,0\n")
    [spec] = inventory_specs(path, load_inventory(path), 18)
    assert spec["acquisition_cost"] == 1_000_123_456_700_000_000_000


def test_every_bad_row_is_reported(tmp_path):
    rows = "SN-2,H100,DC1,-1,2025-03-01,5,0\nSN-3,H100,DC1,1,2025-03-01,5,2\n"
    with pytest.raises(UserError) as error:
        load_inventory(write(tmp_path, "bad.csv", HEADER + GOOD_ROW + rows))
    assert "2 bad row(s)" in error.value.message
    assert "bad.csv:3:" in error.value.message and "bad.csv:4:" in error.value.message


def test_duplicate_serial_names_both_lines(tmp_path):
    with pytest.raises(UserError) as error:
        load_inventory(write(tmp_path, "dup.csv", HEADER + GOOD_ROW + GOOD_ROW))
    assert "dup.csv:3: serial: 'SN-1' already on line 2" in error.value.message


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("missing.csv", None, "no such file"),
        ("a.txt", "x", "an inventory is a .csv, .yaml or .yml file"),
        ("a.csv", "serial,model\nSN-1,H100\n", "line 1: missing columns data_centre"),
        ("a.csv", HEADER + "SN-1,H100\n", "line 2: fewer fields than the header has"),
        ("a.csv", HEADER + GOOD_ROW.strip() + ",extra\n", "line 2: more fields than the header"),
        ("a.csv", HEADER, "no GPUs in the file"),
        ("a.yaml", "serial: SN-1\n", "line 1: a YAML inventory is a list of GPUs"),
        ("a.yaml", "- [unclosed\n", "not valid YAML"),
        ("a.yaml", "- serial: SN-1\n  colour: red\n", "colour: unknown key"),
    ],
)
def test_bad_file_is_refused(tmp_path, name, text, message):
    path = tmp_path / name if text is None else write(tmp_path, name, text)
    with pytest.raises(UserError) as error:
        load_inventory(path)
    assert message in error.value.message


def test_sample_inventory_is_valid():
    entries = load_inventory(Path("inventory/sample.csv"))
    assert len(entries) >= 8
    assert len({e.row.serial for e in entries}) == len(entries)
