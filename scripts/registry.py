"""Register GPUs in bulk from an inventory file, and list the registry.

    ape run registry register inventory/sample.csv --network ethereum:local:foundry
    ape run registry list --network ethereum:local:foundry

`register` validates every row first (a bad row is reported with its line number and nothing is
sent), skips serials already on chain (so an interrupted run resumes without registering a GPU
twice) and sends the rest in batches. GPUs are minted to --owner (default: the custodian).
"""

from pathlib import Path

import click
from ape import project
from ape.cli import ConnectedProviderCommand

from gpu_rwa.chain import require_role, resolve_sender
from gpu_rwa.cli import (
    account_option,
    address_callback,
    console,
    manifest_option,
    require_manifest,
)
from gpu_rwa.inventory import load_inventory
from gpu_rwa.registry import (
    MAX_BATCH,
    check_not_future,
    pending_entries,
    register_entries,
    registry_table,
)


@click.group(short_help="Register GPUs and list the registry")
def cli():
    pass


def _inventory(ctx: click.Context, param: click.Parameter, value: Path):
    # Parsed before ape connects: a bad file costs no node start-up.
    return value, load_inventory(value)


@cli.command(cls=ConnectedProviderCommand, short_help="Register the GPUs of an inventory file")
@click.argument("inventory", type=click.Path(path_type=Path, dir_okay=False), callback=_inventory)
@click.option(
    "--owner", default=None, callback=address_callback, help="Receiver of the GPU tokens."
)
@click.option(
    "--batch-size", type=click.IntRange(1, MAX_BATCH), default=MAX_BATCH, show_default=True
)
@manifest_option
@account_option
def register(inventory, owner, batch_size, manifest_file, account_alias):
    path, entries = inventory
    manifest = require_manifest(manifest_file)
    registry = project.GpuRegistry.at(manifest.address_of("GpuRegistry"))
    sender = resolve_sender(account_alias, "custodian")
    require_role(registry, "CUSTODIAN_ROLE", sender.address, "registry")
    todo = pending_entries(registry, entries)
    check_not_future(todo, str(path))
    skipped = len(entries) - len(todo)
    if skipped:
        console.print(f"{skipped} of {len(entries)} GPU(s) already registered; skipping them")
    if todo:
        register_entries(
            registry,
            todo,
            owner or sender.address,
            sender,
            decimals=manifest.stablecoin_decimals,
            batch_size=batch_size,
            console=console,
        )
    console.print(f"the registry holds {registry.totalSupply()} GPU(s)")


@cli.command("list", cls=ConnectedProviderCommand, short_help="Print the registry as a table")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="Show at most N GPUs.")
@manifest_option
def list_(limit, manifest_file):
    manifest = require_manifest(manifest_file)
    registry = project.GpuRegistry.at(manifest.address_of("GpuRegistry"))
    console.print(registry_table(registry, manifest.stablecoin_decimals, limit))
