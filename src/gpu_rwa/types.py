"""Validated scalar types shared by every pydantic model of the package."""

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated

from eth_utils import is_checksum_address, is_hex_address, to_checksum_address
from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo


def _checksummed(value: object) -> str:
    if not isinstance(value, str) or not is_hex_address(value):
        raise ValueError(f"not an address: {value!r}")
    if value != value.lower() and value[2:] != value[2:].upper() and not is_checksum_address(value):
        raise ValueError(f"bad checksum in address {value!r}")
    return to_checksum_address(value)


Address = Annotated[str, BeforeValidator(_checksummed)]
"""A 20-byte address, returned checksummed; a mixed-case address must carry a valid checksum."""

ZERO_ADDRESS = "0x" + "00" * 20

SECONDS_PER_DAY = 24 * 3600
SECONDS_PER_YEAR = 365 * SECONDS_PER_DAY

_AMOUNT = re.compile(r"^\d+(\.\d+)?$")


def parse_units(text: object, decimals: int) -> int:
    """`"1000.50"` with 6 decimals -> 1_000_500_000; refuses signs, exponents and excess digits."""
    raw = str(text).strip().replace("_", "")
    if not _AMOUNT.match(raw):
        raise ValueError(f"not a non-negative decimal amount: {text!r}")
    try:
        amount = Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - the regex already filters
        raise ValueError(f"not an amount: {text!r}") from exc
    scaled = amount.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{text!r} has more than {decimals} decimal places")
    return int(scaled)


def format_time(timestamp: int) -> str:
    """A unix timestamp as `2026-11-26 06:16` (UTC)."""
    return f"{datetime.fromtimestamp(timestamp, UTC):%Y-%m-%d %H:%M}"


def format_moment(timestamp: int) -> str:
    """A unix timestamp as `2026-11-26 06:16 UTC (unix 1795673760)`: readable, and exact."""
    return f"{format_time(timestamp)} UTC (unix {timestamp})"


def parse_time(value: object) -> int:
    """Unix seconds, or an ISO 8601 date or date-time (UTC unless it names a zone; a date alone
    is its 00:00)."""
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"not a time: {text!r} (unix seconds or ISO 8601, e.g. 2026-05-01T09:30)"
        ) from exc
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def format_age(seconds: int) -> str:
    """A duration as `12d 3h` (whole days and hours, rounded down)."""
    days, rest = divmod(max(seconds, 0), SECONDS_PER_DAY)
    return f"{days}d {rest // 3600}h"


def floor_day(timestamp: int) -> int:
    """The UTC midnight at or before `timestamp` (the collateral's grid)."""
    return timestamp // SECONDS_PER_DAY * SECONDS_PER_DAY


def ceil_day(timestamp: int) -> int:
    """The UTC midnight at or after `timestamp`."""
    return -(-timestamp // SECONDS_PER_DAY) * SECONDS_PER_DAY


def format_units(amount: int, decimals: int) -> str:
    """1_000_500_000 with 6 decimals -> "1,000.500000"."""
    whole, fraction = divmod(amount, 10**decimals)
    return f"{whole:,}.{fraction:0{decimals}d}" if decimals else f"{whole:,}"


Bps = Annotated[int, Field(ge=0, le=10_000)]
"""Basis points, 0 to 100 %."""

Uint = Annotated[int, Field(ge=0, lt=2**256)]
"""A value that fits a uint256."""


def _bytes32(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"0x[0-9a-fA-F]{64}", value):
        raise ValueError(f"not a 32-byte hex value: {value!r}")
    return value.lower()


Bytes32 = Annotated[str, AfterValidator(_bytes32)]


def _distinct_gpu_ids(value: list[int]) -> list[int]:
    if any(token_id < 1 for token_id in value):
        raise ValueError("GPU ids start at 1")
    if len(set(value)) != len(value):
        raise ValueError("a GPU is listed twice")
    return value


# GPU ids as a flow takes them: each a registered id (from 1), none twice.
GpuIdList = Annotated[list[int], AfterValidator(_distinct_gpu_ids)]


def address_or_error(value: str, label: str) -> str:
    """`value` checksummed, or UserError naming `label` (for CLI arguments)."""
    from pydantic import TypeAdapter, ValidationError

    from gpu_rwa.errors import UserError

    try:
        return TypeAdapter(Address).validate_python(value)
    except ValidationError as exc:
        raise UserError(f"{label}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from exc


# The largest amount of money any input takes (a GPU's cost or salvage value in an inventory, a
# price, an instalment, a book value, an investor's amount), in base units: the contracts' bound on
# a GPU's value (GpuCollateral.MAX_COST, GpuAppraisals.MAX_VALUE), far above any real figure, and
# low enough that sums of such amounts keep NAV below the vault's 2**128.
MAX_MONEY = 2**96
# The largest number of fractions an input takes, in base units: the vault keeps supply below
# 2**128.
MAX_FRACTIONS = 2**128 - 1


def bounded_units(
    value: object, decimals: int, maximum: int = MAX_MONEY, *, allow_zero: bool = False
) -> int:
    """An amount typed in token units (`"1000.50"`) as base units, refused (ValueError) with one
    wording wherever it is typed: not a plain decimal, more decimals than the token has, 0 unless
    `allow_zero`, or above `maximum`."""
    # A Decimal (an inventory's column) as written, not in its exponent form (`1E-7`).
    text = format(value, "f") if isinstance(value, Decimal) else str(value).strip()
    amount = parse_units(text, decimals)
    if amount == 0 and not allow_zero:
        raise ValueError("must be more than 0")
    if amount > maximum:
        raise ValueError(f"{text!r} is absurdly large (at most {format_units(maximum, decimals)})")
    return amount


def _positive_units(decimals_key: str, maximum: int):
    def parse(value: object, info: ValidationInfo) -> int:
        return bounded_units(value, (info.context or {})[decimals_key], maximum)

    return parse


StableAmount = Annotated[int, BeforeValidator(_positive_units("decimals", MAX_MONEY))]
"""A positive amount typed in stablecoin units ("1000.50"), in base units; the validation context
gives `decimals` (the manifest's stablecoin_decimals)."""

FractionAmount = Annotated[
    int, BeforeValidator(_positive_units("fraction_decimals", MAX_FRACTIONS))
]
"""A positive amount of fractions typed in whole fractions, in base units; the validation context
gives `fraction_decimals` (the vault's decimals)."""
