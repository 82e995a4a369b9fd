"""The main job: deploy the suite to a local chain and run a pool's whole lifecycle.

    make demo            # on an Anvil started for the run, stopped after it
    ape run demo --network ethereum:local:foundry

Registers the sample inventory (inventory/sample.csv), contributes the GPUs to the pool's
GpuCollateral, has three verified investors buy, leases 8 GPUs for twelve monthly instalments with
chain time advanced (the custodian attesting the pool's GPUs twice a month, so they keep counting
under the 30-day staleness window), lets holders claim and one sell back, checks that an
unverified buyer and a buy while paused are refused, then rebuilds the books from events and checks
every invariant. Prints NAV, price per fraction, collateral value and revenue month by month, and
each holder's total return and yield; writes the figures to reports/demo.json and the pool's
charts to reports/demo-nav-price.png, demo-revenue.png, demo-total-return.png and
demo-collateral.png; exits 1 if an invariant fails. Its manifest is
deployments/demo.json, so it never disturbs the manifest of a chain you work on by hand.

It runs only on an Anvil that ape starts for it: where a node already runs (`make node`), it
refuses in one line, as it would deploy over that chain and move its time by a year. Its
manifest is therefore always of a chain gone since, and each run deploys afresh.

    make demo-default    # on an Anvil of its own (DEMO_DEFAULT_PORT), beside `make demo`
    ape run demo --scenario default --network ethereum:local:foundry

The default scenario (src/gpu_rwa/demo_default.py): a lease falls into arrears and is declared in
default (its GPUs marked down in that block), a queued exit is paid at the lower NAV, the lease is
closed, a recovery reaches holders, the pool winds down, every GPU is sold and every holder leaves
through the queue: nothing is stranded. The audit runs before the default, after it and at the
end; the report is reports/demo-default.json (its charts reports/demo-default-*.png), the manifest
deployments/demo-default.json.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

from gpu_rwa import demo, demo_default
from gpu_rwa.audit import failures, summary_line
from gpu_rwa.chain import is_local
from gpu_rwa.charts import pool_charts
from gpu_rwa.cli import FreshChainCommand, config_option, console
from gpu_rwa.errors import UserError
from gpu_rwa.history import replay
from gpu_rwa.manifest import read_manifest
from gpu_rwa.pool import load_pool

SAMPLE_INVENTORY = Path("inventory/sample.csv")


@dataclass(frozen=True)
class Scenario:
    """A story: how it runs, its summary tables, where it writes, and its audits (each a list of
    invariant checks) from its report."""

    run: Callable
    tables: Callable
    manifest: Path
    report: Path
    audits: Callable


SCENARIOS = {
    "lifecycle": Scenario(
        demo.run_lifecycle,
        demo.summary_tables,
        Path("deployments/demo.json"),
        Path("reports/demo.json"),
        lambda report: [report.invariants],
    ),
    "default": Scenario(
        demo_default.run_default_lifecycle,
        demo_default.summary_tables,
        Path("deployments/demo-default.json"),
        Path("reports/demo-default.json"),
        lambda report: list(report.audits.values()),
    ),
}


@click.command(
    cls=FreshChainCommand,
    advice="the demo would deploy over its chain and move its time by a year; run `make demo` "
    "(or `make demo-default`), which starts an Anvil of its own",
    short_help="Deploy and run the lifecycle",
)
@click.option(
    "--scenario",
    type=click.Choice(sorted(SCENARIOS)),
    default="lifecycle",
    show_default=True,
    help="The twelve-month lifecycle, or a default and the wind-down to zero.",
)
@config_option
def cli(scenario, deploy_config):
    """Deploy the suite to a local chain and run a pool's story (--scenario): the twelve-month
    lifecycle, or a lease default and the wind-down to zero; print the figures, write them to
    reports/ and exit 1 if an invariant fails."""
    if not is_local():
        raise UserError("the demo uses the test accounts of a local chain; pick a local network")
    chosen = SCENARIOS[scenario]
    chosen.manifest.unlink(missing_ok=True)
    report = chosen.run(deploy_config, SAMPLE_INVENTORY, chosen.manifest, console)
    pool = load_pool(read_manifest(chosen.manifest))
    for table in chosen.tables(pool, report):
        console.print(table)
    chosen.report.parent.mkdir(exist_ok=True)
    chosen.report.write_text(report.model_dump_json(indent=2) + "\n")
    console.print(f"wrote {chosen.report}")
    history, _ = replay(pool)
    charts = pool_charts(pool, history, chosen.report.parent, f"{chosen.report.stem}-")
    console.print(f"wrote {', '.join(str(path) for path in charts)}")
    audits = chosen.audits(report)
    for checks in audits:
        if failures(checks):
            raise UserError(summary_line(checks))
    console.print(summary_line(audits[-1]))
