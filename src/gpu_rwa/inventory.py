"""Inventory files (CSV or YAML) of physical GPUs, validated row by row before anything is sent.

Columns / keys: serial, model, data_centre, acquisition_cost, acquired_at, useful_life_years,
salvage_value. Amounts are in stablecoin units (e.g. `32000.00`), dates ISO 8601 (UTC when no
zone is given). The serial stays off-chain: the registry stores keccak256 of its UTF-8 bytes.
"""

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import yaml
from eth_utils import keccak
from pydantic import Field, ValidationError, field_validator, model_validator

from gpu_rwa.errors import UserError
from gpu_rwa.models import StrictModel, describe_validation_error
from gpu_rwa.types import SECONDS_PER_YEAR, bounded_units

COLUMNS = (
    "serial",
    "model",
    "data_centre",
    "acquisition_cost",
    "acquired_at",
    "useful_life_years",
    "salvage_value",
)
# The registry refuses these in text it embeds in tokenURI JSON.
_JSON_UNSAFE = {'"', "\\"}

Label = Annotated[str, Field(min_length=1, max_length=32)]


class InventoryRow(StrictModel):
    serial: Annotated[str, Field(min_length=1, max_length=128)]
    model: Label
    data_centre: Label
    acquisition_cost: Decimal = Field(gt=0)
    acquired_at: datetime
    useful_life_years: Decimal = Field(gt=0, le=30)
    salvage_value: Decimal = Field(ge=0)

    @field_validator("model", "data_centre")
    @classmethod
    def _printable_ascii(cls, value: str) -> str:
        bad = [c for c in value if not (" " <= c <= "~") or c in _JSON_UNSAFE]
        if bad:
            raise ValueError(f"character {bad[0]!r} not allowed (printable ASCII, no quote or \\)")
        return value

    @field_validator("acquisition_cost", "salvage_value", "useful_life_years", mode="before")
    @classmethod
    def _plain_number(cls, value: object) -> object:
        # Decimal("1e3") and floats from YAML are ambiguous money: insist on a plain decimal.
        if isinstance(value, float):
            value = repr(value)
        if isinstance(value, str) and not value.replace(".", "", 1).strip().isdigit():
            raise ValueError(f"not a plain non-negative number: {value!r}")
        return value

    @field_validator("acquired_at", mode="before")
    @classmethod
    def _utc(cls, value: object) -> object:
        if isinstance(value, date) and not isinstance(value, datetime):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        return value

    @field_validator("acquired_at")
    @classmethod
    def _assume_utc(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @model_validator(mode="after")
    def _salvage_below_cost(self) -> "InventoryRow":
        if self.salvage_value > self.acquisition_cost:
            raise ValueError("salvage_value exceeds acquisition_cost")
        return self

    @property
    def serial_hash(self) -> bytes:
        return keccak(text=self.serial)

    def to_spec(self, decimals: int) -> dict:
        """The registry's GpuSpec for this row, amounts scaled to the stablecoin's decimals;
        ValueError `<column>: <problem>` for an amount the stablecoin cannot hold (more decimals
        than it has) or above what any amount may be (`types.bounded_units`)."""
        amounts = {}
        for column in ("acquisition_cost", "salvage_value"):
            try:
                amounts[column] = bounded_units(
                    getattr(self, column), decimals, allow_zero=column == "salvage_value"
                )
            except ValueError as exc:
                raise ValueError(f"{column}: {exc}") from exc
        return {
            "model": self.model,
            "serial_hash": self.serial_hash,
            "data_centre": self.data_centre,
            "acquisition_cost": amounts["acquisition_cost"],
            "acquired_at": int(self.acquired_at.timestamp()),
            "useful_life": int(self.useful_life_years * SECONDS_PER_YEAR),
            "salvage_value": amounts["salvage_value"],
        }


@dataclass(frozen=True)
class InventoryEntry:
    line: int
    row: InventoryRow


def _csv_records(text: str) -> list[tuple[int, dict]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise UserError(
            f"line 1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        )
    records = []
    for record in reader:
        if None in record:
            raise UserError(f"line {reader.line_num}: more fields than the header has")
        if any(value is None for value in record.values()):
            raise UserError(f"line {reader.line_num}: fewer fields than the header has")
        if not any(value.strip() for value in record.values()):
            continue
        records.append((reader.line_num, record))
    return records


def _yaml_records(text: str) -> list[tuple[int, dict]]:
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UserError(f"not valid YAML ({exc.__class__.__name__})") from exc
    if root is None:
        return []
    if not isinstance(data, list) or not isinstance(root, yaml.SequenceNode):
        raise UserError("line 1: a YAML inventory is a list of GPUs")
    return [(node.start_mark.line + 1, item) for node, item in zip(root.value, data, strict=True)]


def load_inventory(path: Path) -> list[InventoryEntry]:
    """Every row of the file, or UserError listing each bad row with its line number."""
    try:
        text = path.read_text()
    except FileNotFoundError as exc:
        raise UserError(f"{path}: no such file") from exc
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml"):
        raise UserError(f"{path}: an inventory is a .csv, .yaml or .yml file")
    try:
        records = _csv_records(text) if suffix == ".csv" else _yaml_records(text)
    except UserError as exc:
        raise UserError(f"{path}: {exc.message}") from exc

    entries: list[InventoryEntry] = []
    problems: list[str] = []
    first_line_of_serial: dict[str, int] = {}
    for line, record in records:
        try:
            row = InventoryRow.model_validate(record)
        except ValidationError as exc:
            problems.append(describe_validation_error(f"{path}:{line}", exc))
            continue
        if (first := first_line_of_serial.setdefault(row.serial, line)) != line:
            problems.append(f"{path}:{line}: serial: {row.serial!r} already on line {first}")
            continue
        entries.append(InventoryEntry(line, row))
    _refuse_bad_rows(problems)
    if not entries:
        raise UserError(f"{path}: no GPUs in the file")
    return entries


def _refuse_bad_rows(problems: list[str]) -> None:
    """UserError naming each bad row (`<file>:<line>: <column>: <problem>`): one line for one."""
    if len(problems) == 1:
        raise UserError(f"{problems[0]} (nothing sent)")
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise UserError(f"{len(problems)} bad row(s), nothing sent:\n  {shown}{more}")


def inventory_specs(path: Path, entries: list[InventoryEntry], decimals: int) -> list[dict]:
    """The registry's GpuSpec of every entry, amounts in base units of a stablecoin of
    `decimals`; UserError naming each row whose amounts it cannot hold, before anything is sent
    (the decimals are known only once connected, after the file was read)."""
    specs, problems = [], []
    for entry in entries:
        try:
            specs.append(entry.row.to_spec(decimals))
        except ValueError as exc:
            problems.append(f"{path}:{entry.line}: {exc}")
    _refuse_bad_rows(problems)
    return specs
