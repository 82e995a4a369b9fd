"""Register GPUs in bulk from an inventory file, attest them, and list the registry.

    ape run registry register inventory/sample.csv --network ethereum:local:foundry
    ape run registry attest 1 2 3                    # the custodian saw them in place, running
    ape run registry attest --all-held               # every GPU the pool holds
    ape run registry list --network ethereum:local:foundry
    ape run registry list --status ACTIVE --pool --limit 20 --offset 20

`register` validates every row first (a bad row is reported with its line number and nothing is
sent), skips serials already on chain (so an interrupted run resumes without registering a GPU
twice) and sends the rest in batches. GPUs are minted to --owner (default: the custodian).
`attest` is one custodian's visit in one step (CUSTODIAN_ROLE, TEST::2 on a local chain): it signs
an attestation at the chain's time and submits it through the CustodyAttestor, a batch per holder
of up to 500 GPUs. A GPU the pool holds keeps counting for another staleness window, and one that
had gone stale counts again, its value rising over the unlock period. Every id is checked first
(known, not RETIRED, last attested before now); nothing is sent on a bad one. Where a holder's
GPUs take more than one custodian's signature, use `ape run custody sign` and `submit` instead.
"""

from pathlib import Path

import click
from ape import project

from gpu_rwa.chain import require_role, resolve_sender
from gpu_rwa.cli import (
    ConnectedProviderCommand,
    account_option,
    address_callback,
    console,
    manifest_option,
    require_manifest,
    validated,
)
from gpu_rwa.collateral import return_deferred
from gpu_rwa.custody import attest_now
from gpu_rwa.errors import UserError
from gpu_rwa.inventory import load_inventory
from gpu_rwa.pool import load_pool
from gpu_rwa.registry import (
    DEFAULT_LIST_LIMIT,
    MAX_BATCH,
    STATUS_CODES,
    Attestation,
    RegistryQuery,
    check_not_future,
    held_by,
    pending_entries,
    read_terms,
    register_entries,
    registry_table,
)
from gpu_rwa.types import format_time


@click.group(short_help="Register GPUs and list the registry")
def cli():
    """The shared GpuRegistry: register GPUs from an inventory file, attest them (custodian),
    list the registry."""


def _inventory(ctx: click.Context, param: click.Parameter, value: Path):
    # Parsed before ape connects: a bad file costs no node start-up.
    return value, load_inventory(value)


@cli.command(cls=ConnectedProviderCommand, short_help="Register the GPUs of an inventory file")
@click.argument("inventory", type=click.Path(path_type=Path, dir_okay=False), callback=_inventory)
@click.option(
    "--owner", default=None, callback=address_callback, help="Receiver of the GPU tokens."
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, MAX_BATCH),
    default=MAX_BATCH,
    show_default=True,
    help="GPUs registered per transaction.",
)
@manifest_option
@account_option
def register(inventory, owner, batch_size, manifest_file, account_alias):
    """Register the GPUs of INVENTORY (a CSV or YAML file, validated row by row first), skipping
    serials already on chain, in batches with a progress bar (custodian)."""
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
            source=path,
        )
    console.print(f"the registry holds {registry.totalSupply()} GPU(s)")


@cli.command(cls=ConnectedProviderCommand, short_help="Attest GPUs (custodian)")
@click.argument("ids", metavar="[IDS]...", nargs=-1)
@click.option("--all-held", is_flag=True, help="Every GPU the pool's GpuCollateral holds.")
@manifest_option
@account_option
def attest(ids, all_held, manifest_file, account_alias):
    """Attest GPUs IDS (or --all-held) as seen in place and running now: sign and submit through
    the CustodyAttestor (custodian)."""
    request = validated(Attestation, dict(token_ids=list(ids), all_held=all_held))
    pool = load_pool(require_manifest(manifest_file))
    registry, collateral = pool.registry, pool.collateral
    sender = resolve_sender(account_alias, "custodian")
    require_role(registry, "CUSTODIAN_ROLE", sender.address, "registry")
    token_ids = request.token_ids
    if request.all_held:
        held = held_by(registry, collateral.address)
        token_ids = [
            token_id
            for token_id, terms in zip(held, read_terms(registry, held), strict=True)
            if terms.status != STATUS_CODES["RETIRED"]
        ]
        if not token_ids:
            raise UserError("the pool holds no GPU to attest (none, or only RETIRED ones)")
    signed, receipts = attest_now(registry, pool.attestor, sender, token_ids)
    console.print(f"attested {len(token_ids)} GPU(s) in {len(receipts)} transaction(s)")
    for receipt in receipts:
        for log in collateral.GpuCounted.from_receipt(receipt):
            stale = f"stale from {format_time(log.stale_at)} UTC"
            if log.ramp_end:
                console.print(
                    f"GPU {log.token_id} counts again: full value on "
                    f"{format_time(log.ramp_end)} UTC, {stale}"
                )
            else:
                console.print(f"GPU {log.token_id} counts on, {stale}")
    held = (
        i for batch in signed.batches if batch.holder == collateral.address for i in batch.token_ids
    )
    for token_id in held:
        if return_deferred(pool, token_id):
            console.print(
                f"GPU {token_id} counts again once maturities are processed: run `ape run vault "
                f"process-maturities`, then `ape run vault sync {token_id}`"
            )


@cli.command("list", cls=ConnectedProviderCommand, short_help="Print the registry as a table")
@click.option(
    "--limit",
    metavar="N",
    default=str(DEFAULT_LIST_LIMIT),
    show_default=True,
    help="Show at most this many GPUs.",
)
@click.option(
    "--offset",
    metavar="N",
    default="0",
    show_default=True,
    help="Skip this many matching GPUs first.",
)
@click.option(
    "--status",
    metavar="STATUS",
    default=None,
    help=f"Only GPUs of this status: {', '.join(STATUS_CODES)}.",
)
@click.option("--owner", metavar="ADDRESS", default=None, help="Only GPUs this address owns.")
@click.option("--pool", is_flag=True, help="Only GPUs the pool's GpuCollateral holds.")
@manifest_option
def list_(limit, offset, status, owner, pool, manifest_file):
    """Print the registry as a table, one page at a time (--limit, --offset), optionally only the
    GPUs of a --status, of an --owner or held by the --pool: each GPU's model, serial hash, data
    centre, cost, book value now, status, last attestation and owner."""
    query = validated(
        RegistryQuery,
        dict(limit=limit, offset=offset, status=status, owner=owner, pool=pool),
    )
    manifest = require_manifest(manifest_file)
    registry = project.GpuRegistry.at(manifest.address_of("GpuRegistry"))
    pool_holder = manifest.address_of("GpuCollateral")
    console.print(registry_table(registry, manifest.stablecoin_decimals, query, pool_holder))
