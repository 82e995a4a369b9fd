"""Reports for investors, from the pool's events alone.

    ape run report statement 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955
    ape run report statement 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 --from 2027-01-01 \\
        --to 2027-06-30 --out reports/statements

`statement ADDRESS` lists every purchase, GPU contributed, redemption (at once, or requested,
fulfilled and paid through the queue, or cancelled and taken back), fraction transfer (forced
transfers and recoveries named) and revenue claim of ADDRESS, with the revenue accrued month by
month (the vault's accumulator replayed from events: the claimable figure is the vault's
`claimable` to the wei), the cost basis (average cost), the value at NAV, the total return and the
yield (XIRR: the money-weighted annual rate of the cash flows). It writes
`statement-<ADDRESS>.csv` (one row per event, then the months, then the totals; amounts in units
beside base units) and `statement-<ADDRESS>.png` (value against cost, revenue per month,
cumulative return) into --out. Dates are UTC.
"""

from pathlib import Path

import click
from rich.table import Table

from gpu_rwa.charts import statement_chart
from gpu_rwa.cli import (
    ConnectedProviderCommand,
    console,
    manifest_option,
    require_manifest,
    validated,
)
from gpu_rwa.models import write_atomically
from gpu_rwa.pool import load_pool
from gpu_rwa.statement import (
    StatementRequest,
    build_statement,
    csv_text,
    format_rate,
    totals,
)


@click.group(short_help="Investor statements")
def cli():
    """Reports for investors from the pool's events alone."""


@cli.command(cls=ConnectedProviderCommand, short_help="One investor's statement: CSV and PNG")
@click.argument("address", metavar="ADDRESS")
@click.option("--from", "first", default=None, metavar="DATE",
              help="First day (YYYY-MM-DD, UTC) [default: the pool's first block].")  # fmt: skip
@click.option("--to", "last", default=None, metavar="DATE",
              help="Last day, included (YYYY-MM-DD, UTC) [default: the last block].")  # fmt: skip
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("reports"),
              show_default=True, help="Folder the CSV and the PNG are written to.")  # fmt: skip
@manifest_option
def statement(address, first, last, out, manifest_file):
    """Every move and claim of ADDRESS, revenue month by month, cost basis, value at NAV, total
    return and yield (XIRR), from the pool's events; as CSV and PNG."""
    request = validated(StatementRequest, dict(account=address, first=first, last=last))
    pool = load_pool(require_manifest(manifest_file))
    result = build_statement(pool, request)
    csv_path = out / f"statement-{result.account}.csv"
    png_path = out / f"statement-{result.account}.png"
    write_atomically(csv_path, csv_text(pool, result).encode())
    statement_chart(pool, result, png_path)
    table = Table(title=f"{result.account}: {len(result.entries)} event(s)")
    table.add_column("figure")
    table.add_column(pool.symbol, justify="right")
    for name, amount in totals(result.performance):
        table.add_row(name, pool.cash(amount) if amount >= 0 else f"-{pool.cash(-amount)}")
    table.add_row("yield (XIRR, a year)", format_rate(result.performance.xirr))
    console.print(table)
    console.print(f"wrote {csv_path} and {png_path}")
