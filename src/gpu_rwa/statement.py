"""An investor's statement from the pool's events alone (`ape run report statement ADDRESS`).

Every purchase, GPU contributed, redemption (at once, or requested, fulfilled and paid through the
RedemptionQueue, or cancelled and taken back), fraction transfer (forced transfers and recoveries
named) and revenue claim, from `history.History` over the audit's event replay; revenue accrued
month by month from the vault's accumulator replayed to the 2**-28 wei (`accrual.Accrual`: the
claimable figure at the end is the vault's `claimable(address)` to the wei); fractions valued at
NAV recomputed from the events (free cash plus each GPU's collateral value, priced as
`convertToAssets` prices them).

Figures over the period [--from, --to] (default: the first event to the last block):
- total return = value at the end + revenue claimable at the end + revenue claimed + redemptions
  paid and fractions transferred out (at NAV then) - purchases, GPUs contributed and fractions
  transferred in (at NAV then) - the opening position (value and claimable at --from);
- yield: the money-weighted annual rate (XIRR, Actual/365, compounded yearly) of those cash flows
  with the opening position paid at --from and the closing one received at --to; none when the
  flows span under a day or never change sign;
- cost basis: average cost (each disposal takes its share).
"""

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from ape import chain
from pydantic import BaseModel, Field, computed_field, field_validator, model_validator

from gpu_rwa.accrual import FRACTION_BITS
from gpu_rwa.errors import UserError
from gpu_rwa.history import Entry, History, Ledger, Snapshot, replay
from gpu_rwa.models import StrictModel
from gpu_rwa.pool import Pool
from gpu_rwa.types import SECONDS_PER_DAY, Address, format_units

YEAR_DAYS = 365
# Snapshots of the holder over the period for the charts, besides the month ends.
CHART_POINTS = 120


@dataclass(frozen=True)
class Period:
    """The statement's span, unix seconds: the opening moment (None: before the first event) and
    the closing one (at most the last block's time)."""

    start: int | None
    end: int


class Performance(BaseModel):
    """A holder's results over a period, stablecoin base units; `xirr` a year (0.05: 5 %)."""

    opening_value: int
    paid: int
    returned: int
    claimed: int
    value: int
    claimable: int
    cost_basis: int
    xirr: float | None

    @computed_field
    @property
    def total_return(self) -> int:
        inflows = self.value + self.claimable + self.claimed + self.returned
        return inflows - self.paid - self.opening_value


@dataclass(frozen=True)
class Month:
    """One calendar month (UTC) of a statement: revenue accrued and claimed in it, the position
    at its end."""

    start: int
    end: int
    accrued: int
    claimed: int
    closing: Snapshot
    cumulative_return: int


@dataclass(frozen=True)
class Statement:
    account: str
    period: Period
    entries: list[Entry]
    months: list[Month]
    # The holder at --from (None: the statement opens before its first event), and over the
    # period for the charts (month ends and evenly spaced moments).
    opening: Snapshot | None
    snapshots: list[Snapshot]
    performance: Performance
    # What the chain says at the last block (None for a statement closing earlier).
    claimable_on_chain: int | None


# INPUTS #


class StatementRequest(StrictModel):
    """`report statement`'s input: the holder and the dates (UTC) the statement spans."""

    account: Address = Field(alias="ADDRESS")
    first: date | None = Field(default=None, alias="--from")
    last: date | None = Field(default=None, alias="--to")

    @field_validator("first", "last", mode="before")
    @classmethod
    def _iso_date(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a date: write it as YYYY-MM-DD (UTC)") from None
        return value

    @model_validator(mode="after")
    def _in_order(self) -> "StatementRequest":
        if self.first and self.last and self.first > self.last:
            raise ValueError(f"--from {self.first} is after --to {self.last}")
        return self


def _midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).date().isoformat()


def period(first: date | None, last: date | None, deployed_at: int, head: int) -> Period:
    """--from (from its 00:00 UTC) and --to (to the 00:00 UTC that ends it, at most the last
    block), checked against the chain. Events at the opening moment belong to the opening
    position, those at the closing one to the period."""
    start = _midnight(first) if first else None
    if start is not None and start > head:
        raise UserError(f"--from {first} is after the chain's last block ({_iso(head)})")
    # Through the midnight that ends --to: a statement to a day and one from the next meet there.
    end = head if last is None else min(head, _midnight(last + timedelta(days=1)))
    if end < deployed_at:
        raise UserError(f"--to {last} is before the pool was deployed ({_iso(deployed_at)})")
    return Period(start=start if start and start > deployed_at else None, end=end)


def month_starts(start: int, end: int) -> list[int]:
    """The first seconds of the calendar months (UTC) after `start`, up to `end`."""
    day = datetime.fromtimestamp(start, UTC).date().replace(day=1)
    starts = []
    while True:
        day = (day + timedelta(days=32)).replace(day=1)
        t = _midnight(day)
        if t > end:
            return starts
        starts.append(t)


# THE STATEMENT #


def build_statement(pool: Pool, request: StatementRequest) -> Statement:
    account = request.account
    head = chain.blocks.head.timestamp
    deployed_at = chain.blocks[pool.manifest.deploy_block or 0].timestamp
    span = period(request.first, request.last, deployed_at, head)
    opening = span.start if span.start is not None else deployed_at
    step = max(1, (span.end - opening) // CHART_POINTS)
    marks = [*month_starts(deployed_at, span.end), *range(opening, span.end, step), opening]
    history, _ = replay(pool, {account}, marks, span.end)
    ledger = history.ledgers.get(account)
    if ledger is None or not ledger.entries:
        raise UserError(
            f"{account} has no history in this pool: no purchase, contribution, transfer, "
            "redemption or revenue claim"
        )
    entries = [e for e in ledger.entries if (span.start or 0) < e.t <= span.end]
    start_snapshot = ledger.snapshots.get(span.start) if span.start is not None else None
    if not entries and (start_snapshot is None or not start_snapshot.units):
        # The last day the period includes (--to's midnight ends it).
        last_day = _iso(span.end - 1 if request.last else span.end)
        raise UserError(
            f"{account} held nothing and did nothing between {_iso(opening)} and {last_day}"
        )
    closing = ledger.snapshots[span.end]
    return Statement(
        account=account,
        period=span,
        entries=entries,
        months=_months(ledger, span, opening, start_snapshot),
        opening=start_snapshot,
        snapshots=[s for t, s in sorted(ledger.snapshots.items()) if opening <= t <= span.end],
        performance=performance(ledger, span, start_snapshot, closing),
        claimable_on_chain=pool.vault.claimable(account) if span.end == head else None,
    )


def _empty(t: int) -> Snapshot:
    return Snapshot(t, 0, 0, 0, 0, 0, 0, 0, 0, 0)


def performance(
    ledger: Ledger, span: Period, opening: Snapshot | None, closing: Snapshot
) -> Performance:
    """The holder's results between the opening snapshot (None: nothing held) and the closing
    one, with the XIRR of the cash flows between them."""
    before = opening or _empty(span.start or 0)
    opening_value = before.value + before.claimable
    flows = [(t, amount) for t, amount in ledger.flows if (span.start or 0) < t <= span.end]
    if opening_value:
        flows.insert(0, (span.start, -opening_value))
    flows.append((span.end, closing.value + closing.claimable))
    return Performance(
        opening_value=opening_value,
        paid=closing.paid - before.paid,
        returned=closing.returned - before.returned,
        claimed=closing.claimed - before.claimed,
        value=closing.value,
        claimable=closing.claimable,
        cost_basis=closing.cost_basis,
        xirr=xirr(flows),
    )


def gain(opening: Snapshot | None, closing: Snapshot) -> int:
    """The total return from `opening` (None: nothing) to `closing`."""
    before = opening or _empty(0)
    inflows = closing.value + closing.claimable + closing.claimed + closing.returned
    return (
        inflows
        - closing.paid
        - (before.claimed + before.returned - before.paid)
        - (before.value + before.claimable)
    )


def holder_returns(history: History) -> dict[str, Performance]:
    """Each holder's results over the whole history, at its last moment (History's `marks` must
    hold `until`)."""
    span = Period(start=None, end=history.until)
    return {
        account: performance(ledger, span, None, ledger.snapshots[history.until])
        for account, ledger in sorted(history.ledgers.items())
        if history.until in ledger.snapshots
    }


def _months(ledger: Ledger, span: Period, opening: int, start: Snapshot | None) -> list[Month]:
    bounds = [opening, *(t for t in month_starts(opening, span.end) if t < span.end), span.end]
    snapshots = ledger.snapshots
    months = []
    for first, last in pairwise(bounds):
        begin, close = snapshots.get(first, _empty(first)), snapshots.get(last, _empty(last))
        months.append(
            Month(
                start=first,
                end=last,
                accrued=(close.accrued >> FRACTION_BITS) - (begin.accrued >> FRACTION_BITS),
                claimed=close.claimed - begin.claimed,
                closing=close,
                cumulative_return=gain(start, close),
            )
        )
    return months


def xirr(flows: list[tuple[int, int]]) -> float | None:
    """The annual rate r at which the flows' present value is 0 (Actual/365): sum of amount /
    (1 + r) ** (years since the first flow). Bisection between -99.9999 % and 10**6 % a year;
    None when the flows span under a day or do not change sign."""
    if not flows:
        return None
    t0 = min(t for t, _ in flows)
    span = max(t for t, _ in flows) - t0
    if span < SECONDS_PER_DAY or not (
        any(a < 0 for _, a in flows) and any(a > 0 for _, a in flows)
    ):
        return None
    years = [((t - t0) / (YEAR_DAYS * SECONDS_PER_DAY), amount) for t, amount in flows]

    def npv(rate: float) -> float:
        return sum(amount / (1 + rate) ** y for y, amount in years)

    low, high = -0.999999, 10_000.0
    if npv(low) * npv(high) > 0:
        return None
    for _ in range(200):
        mid = (low + high) / 2
        if npv(low) * npv(mid) <= 0:
            high = mid
        else:
            low = mid
    return (low + high) / 2


# OUTPUT #


def format_rate(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:,.2f} %"


def csv_text(pool: Pool, statement: Statement) -> str:
    """The events (one row each), then the months, then the totals; amounts in units beside base
    units."""
    cash = lambda amount: format_units(amount, pool.decimals)  # noqa: E731
    fractions = lambda amount: _signed(amount, pool.fraction_decimals)  # noqa: E731
    out = io.StringIO()
    rows = csv.writer(out, lineterminator="\n")
    rows.writerow(
        ["date (UTC)", "block", "transaction", "event", f"fractions ({pool.fraction_symbol})",
         "fractions (base units)", f"cash ({pool.symbol})", "cash (base units)",
         f"price per fraction ({pool.symbol})", "detail"]
    )  # fmt: skip
    for e in statement.entries:
        rows.writerow(
            [datetime.fromtimestamp(e.t, UTC).isoformat().replace("+00:00", "Z"), e.block, e.tx,
             e.kind, fractions(e.fractions), e.fractions, _signed(e.cash, pool.decimals), e.cash,
             cash(e.price), e.detail]
        )  # fmt: skip
    rows.writerow([])
    rows.writerow(
        ["month", "from (UTC)", "to (UTC)", f"fractions ({pool.fraction_symbol})",
         f"value at NAV ({pool.symbol})", f"cost basis ({pool.symbol})",
         f"revenue accrued ({pool.symbol})", "revenue accrued (base units)",
         f"revenue claimed ({pool.symbol})", f"claimable ({pool.symbol})",
         f"cumulative return ({pool.symbol})"]
    )  # fmt: skip
    for m in statement.months:
        rows.writerow(
            [_iso(m.start)[:7], _iso(m.start), _iso(m.end), fractions(m.closing.units),
             cash(m.closing.value), cash(m.closing.cost_basis), cash(m.accrued), m.accrued,
             cash(m.claimed), cash(m.closing.claimable),
             _signed(m.cumulative_return, pool.decimals)]
        )  # fmt: skip
    rows.writerow([])
    rows.writerow(["figure", pool.symbol, "base units"])
    for name, amount in totals(statement.performance):
        rows.writerow([name, _signed(amount, pool.decimals), amount])
    rows.writerow(["yield (XIRR, annual)", format_rate(statement.performance.xirr), ""])
    return out.getvalue()


def totals(p: Performance) -> list[tuple[str, int]]:
    return [
        ("opening position", p.opening_value),
        ("paid in", p.paid),
        ("returned (redemptions, transfers out)", p.returned),
        ("revenue claimed", p.claimed),
        ("revenue claimable", p.claimable),
        ("value at NAV", p.value),
        ("cost basis", p.cost_basis),
        ("total return", p.total_return),
    ]


def _signed(amount: int, decimals: int) -> str:
    text = format_units(abs(amount), decimals)
    return f"-{text}" if amount < 0 else text
