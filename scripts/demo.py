"""The main job: deploy the suite to the connected chain and run the lifecycle end to end.

    make demo            # an Anvil started for the run, stopped after it
    ape run demo --network ethereum:local:foundry

Today it deploys, registers the sample inventory (config/local.yaml, inventory/sample.csv) and
prints the registry; it writes its manifest to deployments/demo.json so it never disturbs the
manifest of a chain you work on by hand.
"""

from pathlib import Path

import click
from ape import accounts, project
from ape.cli import ConnectedProviderCommand

from gpu_rwa.chain import LOCAL_ROLE_ACCOUNTS, is_local
from gpu_rwa.cli import config_option, console
from gpu_rwa.deployment import deploy_suite
from gpu_rwa.errors import UserError
from gpu_rwa.inventory import load_inventory
from gpu_rwa.registry import pending_entries, register_entries, registry_table

DEMO_MANIFEST = Path("deployments/demo.json")
SAMPLE_INVENTORY = Path("inventory/sample.csv")


@click.command(cls=ConnectedProviderCommand, short_help="Deploy and run the lifecycle")
@config_option
def cli(deploy_config):
    if not is_local():
        raise UserError("the demo uses the test accounts of a local chain; pick a local network")
    entries = load_inventory(SAMPLE_INVENTORY)
    admin, custodian = (
        accounts.test_accounts[LOCAL_ROLE_ACCOUNTS[r]] for r in ("admin", "custodian")
    )

    console.rule("1. deploy")
    manifest = deploy_suite(deploy_config, admin, DEMO_MANIFEST, console)
    registry = project.GpuRegistry.at(manifest.address_of("GpuRegistry"))

    console.rule(f"2. register {len(entries)} GPUs from {SAMPLE_INVENTORY}")
    todo = pending_entries(registry, entries)
    register_entries(
        registry,
        todo,
        custodian.address,
        custodian,
        decimals=manifest.stablecoin_decimals,
        console=console,
    )

    console.rule("3. the registry")
    console.print(registry_table(registry, manifest.stablecoin_decimals))
