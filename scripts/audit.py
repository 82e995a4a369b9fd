"""Rebuild a pool's books from its events alone and check every invariant against the chain.

    ape run audit --network ethereum:local:foundry
    ape run audit --manifest deployments/demo.json --report reports/audit.json
    ape run audit --manifest deployments/demo.json --charts reports/audit
    ape run audit --no-cache

Prints what was audited (network, chain id, genesis hash, node, the block range with its times, the
pool's contracts), the pool's figures, every holder's position (fractions, value at NAV, claimable
revenue, freezes), every lease (arrears as amount, instalments and days late; defaults), the GPUs as
rebuilt from events (beside what the GpuCollateral says) and each invariant of ../shared/DOMAIN.md
with the figures compared (amounts in units beside base units); optionally writes all of it as JSON
and the pool's charts as PNG, and exits 1 if any invariant fails. The events read are kept in
.cache/events.sqlite (`--cache` to keep them elsewhere), so that the next audit of the same pool
reads only the blocks after them.
"""

from pathlib import Path

import click

from gpu_rwa.audit import (
    audit_report,
    audit_tables,
    check_invariants,
    failures,
    read_chain,
    rebuild_books,
    summary_line,
)
from gpu_rwa.cli import ConnectedProviderCommand, console, manifest_option, require_manifest
from gpu_rwa.errors import UserError
from gpu_rwa.events import DEFAULT_CACHE, EventCache, EventSource
from gpu_rwa.history import replay
from gpu_rwa.models import write_atomically
from gpu_rwa.pool import load_pool


@click.command(cls=ConnectedProviderCommand, short_help="Rebuild the books and check invariants")
@manifest_option
@click.option("--report", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the report (chain, blocks, pool, positions, leases, invariants) "
              "to this JSON file.")  # fmt: skip
@click.option("--charts", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Also draw the pool's charts from its events into this folder (PNG: NAV and "
              "price, revenue, total return per holder, collateral against book "
              "value).")  # fmt: skip
@click.option("--cache", "cache_file", type=click.Path(path_type=Path, dir_okay=False),
              default=DEFAULT_CACHE, show_default=True,
              envvar="GPU_RWA_EVENT_CACHE", show_envvar=True,
              help="SQLite file of the events read, by chain and contract: the next audit of "
                   "the pool reads only the blocks after them.")  # fmt: skip
@click.option("--no-cache", is_flag=True, default=False,
              help="Read every event from the node and keep none.")  # fmt: skip
def cli(manifest_file, report, charts, cache_file, no_cache):
    """Rebuild the pool's books from its events alone, check every invariant against the chain
    and report what was audited (chain, blocks, pool), the positions, the leases and each
    invariant's figures. Exits 1 if an invariant fails."""
    pool = load_pool(require_manifest(manifest_file))
    source = EventSource(cache=None if no_cache else EventCache(cache_file))
    # The charts' time series come from the same replay, observed.
    history, books = (
        replay(pool, source=source)
        if charts is not None
        else (None, rebuild_books(pool, source=source))
    )
    state = read_chain(pool, books)
    checks = check_invariants(pool, books, state)
    result = audit_report(pool, books, state, checks)
    for table in audit_tables(pool, books, state, checks, result):
        console.print(table)
    if report is not None:
        write_atomically(report, (result.model_dump_json(indent=2) + "\n").encode())
        console.print(f"wrote {report}")
    if history is not None:
        # Imported here: matplotlib costs half a second of every audit's start-up otherwise.
        from gpu_rwa.charts import pool_charts

        paths = pool_charts(pool, history, charts)
        console.print(f"wrote {', '.join(str(path) for path in paths)}")
    if failures(checks):
        raise UserError(summary_line(checks))
    console.print(summary_line(checks))
