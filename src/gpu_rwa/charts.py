"""PNG charts of a pool and of an investor's statement, drawn headless (matplotlib's Agg canvas,
no display, no browser) from `history.History` over the audit's event replay.

A pool's four charts (`pool_charts`: `make demo` writes the demo's into reports/, `ape run audit
--charts DIR` any pool's): NAV and price per fraction over time; revenue received, claimed and
still vesting; each holder's total return (with its yield); collateral value against the
registry's book value of the GPUs held. A statement's chart (`statement_chart`): the position's
value against its cost basis, revenue accrued month by month, the cumulative return.

The files are deterministic: the same history gives the same bytes (no software or time in the
PNG's metadata, fixed size and resolution, the fonts matplotlib ships).
"""

from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from gpu_rwa.history import History
from gpu_rwa.models import write_atomically
from gpu_rwa.pool import Pool
from gpu_rwa.statement import (
    Statement,
    format_rate,
    gain,
    holder_returns,
)

SIZE = (9, 4.5)
DPI = 100
# What each pool chart is called (file name without the prefix).
POOL_CHARTS = ("nav-price", "revenue", "total-return", "collateral")


def _dates(times: list[int]) -> list[datetime]:
    return [datetime.fromtimestamp(t, UTC) for t in times]


def _axes_over_time(figure: Figure, position=111):
    axes = figure.add_subplot(position)
    locator = AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=UTC))
    axes.grid(True, alpha=0.3)
    return axes


def _money(*axes_list) -> None:
    """Whole units with thousands separators on the y axis (no `1e6` offset)."""
    for axes in axes_list:
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))


def _png(figure: Figure, path: Path) -> Path:
    """The figure as a PNG at `path`, whole or not at all, with nothing in it that changes from
    run to run."""
    FigureCanvasAgg(figure)
    figure.tight_layout()
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    write_atomically(path, buffer.getvalue())
    return path


def _short(address: str) -> str:
    return f"{address[:6]}...{address[-4:]}"


# THE POOL #


def pool_charts(pool: Pool, history: History, directory: Path, prefix: str = "") -> list[Path]:
    """The pool's four charts into `directory`, named `<prefix><chart>.png`."""
    scale = 10**pool.decimals
    points = history.points
    times = _dates([p.t for p in points])
    symbol = pool.symbol
    paths = []

    figure = Figure(figsize=SIZE)
    axes = _axes_over_time(figure)
    (nav,) = axes.plot(times, [p.nav / scale for p in points], color="tab:blue", label="NAV")
    axes.set_ylabel(f"NAV ({symbol})")
    price_axes = axes.twinx()
    (price,) = price_axes.plot(
        times, [p.price / scale for p in points], color="tab:orange", label="price per fraction"
    )
    price_axes.set_ylabel(f"price per fraction ({symbol})")
    _money(axes)
    axes.legend(handles=[nav, price], loc="lower left")
    axes.set_title("NAV and price per fraction")
    paths.append(_png(figure, directory / f"{prefix}nav-price.png"))

    figure = Figure(figsize=SIZE)
    axes = _axes_over_time(figure)
    for label, values in (
        ("received (cumulative)", [p.received for p in points]),
        ("claimed (cumulative)", [p.claimed for p in points]),
        ("vesting", [p.unvested for p in points]),
    ):
        axes.plot(times, [v / scale for v in values], label=label)
    axes.set_ylabel(symbol)
    _money(axes)
    axes.legend(loc="upper left")
    axes.set_title("Revenue to holders: received, claimed, still vesting")
    paths.append(_png(figure, directory / f"{prefix}revenue.png"))

    returns = holder_returns(history)
    figure = Figure(figsize=SIZE)
    axes = figure.add_subplot(111)
    labels = [_short(a) for a in returns]
    totals = [r.total_return / scale for r in returns.values()]
    bars = axes.bar(labels, totals, color=["tab:green" if t >= 0 else "tab:red" for t in totals])
    axes.bar_label(bars, labels=[format_rate(r.xirr) for r in returns.values()], fontsize=8)
    axes.axhline(0, color="black", linewidth=0.8)
    axes.set_ylabel(f"total return ({symbol})")
    _money(axes)
    axes.set_title("Total return per holder (label: yield, XIRR a year)")
    axes.tick_params(axis="x", labelrotation=30, labelsize=8)
    paths.append(_png(figure, directory / f"{prefix}total-return.png"))

    figure = Figure(figsize=SIZE)
    axes = _axes_over_time(figure)
    axes.plot(times, [p.book_value / scale for p in points], label="book value (registry)")
    axes.plot(times, [p.collateral_value / scale for p in points], label="collateral value")
    axes.set_ylabel(symbol)
    _money(axes)
    axes.legend(loc="upper right")
    axes.set_title("Collateral value against book value of the GPUs held")
    paths.append(_png(figure, directory / f"{prefix}collateral.png"))
    return paths


# A STATEMENT #


def statement_chart(pool: Pool, statement: Statement, path: Path) -> Path:
    """Three panels: value against cost basis, revenue accrued per month, cumulative return."""
    scale = 10**pool.decimals
    snapshots = statement.snapshots
    times = _dates([s.t for s in snapshots])
    figure = Figure(figsize=(9, 10))

    axes = _axes_over_time(figure, 311)
    axes.plot(times, [s.value / scale for s in snapshots], label="value at NAV")
    axes.plot(times, [s.cost_basis / scale for s in snapshots], label="cost basis")
    axes.set_ylabel(pool.symbol)
    _money(axes)
    axes.legend(loc="upper right")
    axes.set_title(f"{statement.account}: position")

    axes = figure.add_subplot(312)
    months = statement.months
    axes.bar(
        [datetime.fromtimestamp(m.start, UTC).strftime("%Y-%m") for m in months],
        [m.accrued / scale for m in months],
        color="tab:green",
    )
    axes.set_ylabel(pool.symbol)
    axes.set_title("Revenue accrued per month")
    axes.grid(True, axis="y", alpha=0.3)

    axes = _axes_over_time(figure, 313)
    cumulative = [gain(statement.opening, s) for s in snapshots]
    axes.plot(times, [c / scale for c in cumulative], color="tab:purple")
    axes.axhline(0, color="black", linewidth=0.8)
    axes.set_ylabel(pool.symbol)
    axes.set_title(
        f"Cumulative return (yield {format_rate(statement.performance.xirr)} a year, XIRR)"
    )
    return _png(figure, path)
