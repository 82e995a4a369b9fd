"""The main job: deploy the suite to a local chain and run a pool's whole lifecycle.

    make demo            # on an Anvil started for the run, stopped after it
    ape run demo --network ethereum:local:foundry

Registers the sample inventory (inventory/sample.csv), contributes the GPUs to the pool's
GpuCollateral, has three verified investors buy, leases 8 GPUs for twelve monthly instalments with
chain time advanced (the custodian attesting the pool's GPUs twice a month, so they keep counting
under the 30-day staleness window), lets holders claim and one sell back, checks that an
unverified buyer and a buy while paused are refused, then rebuilds the books from events and checks
every invariant. Prints NAV, price per fraction, collateral value and revenue month by month and
writes the figures to reports/demo.json; exits 1 if an invariant fails. Its manifest is
deployments/demo.json, so it never disturbs the manifest of a chain you work on by hand.
"""

from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand

from gpu_rwa.audit import failures, summary_line
from gpu_rwa.chain import is_local
from gpu_rwa.cli import config_option, console
from gpu_rwa.demo import run_lifecycle, summary_tables
from gpu_rwa.errors import UserError
from gpu_rwa.manifest import read_manifest
from gpu_rwa.pool import load_pool

DEMO_MANIFEST = Path("deployments/demo.json")
SAMPLE_INVENTORY = Path("inventory/sample.csv")
REPORT = Path("reports/demo.json")


@click.command(cls=ConnectedProviderCommand, short_help="Deploy and run the lifecycle")
@config_option
def cli(deploy_config):
    if not is_local():
        raise UserError("the demo uses the test accounts of a local chain; pick a local network")
    report = run_lifecycle(deploy_config, SAMPLE_INVENTORY, DEMO_MANIFEST, console)
    pool = load_pool(read_manifest(DEMO_MANIFEST))
    for table in summary_tables(pool, report):
        console.print(table)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(report.model_dump_json(indent=2) + "\n")
    console.print(f"wrote {REPORT}")
    if failures(report.invariants):
        raise UserError(summary_line(report.invariants))
    console.print(summary_line(report.invariants))
