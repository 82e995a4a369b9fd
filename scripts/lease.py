"""Leases of a pool: open one over GPUs the pool holds, pay instalments, cure arrears, declare a
default, close a defaulted lease, pay recoveries, show the lease book.

    ape run lease open --lessee 0x976EA74026E726554dB657fA54763abd0C3a0aa9 --instalment 10000 \
        --period-days 30 --instalments 12 --grace-days 5 --gpu 1 --gpu 2
    ape run lease pay 1                 # the next instalment (approves the vault if needed)
    ape run lease pay 1 --times 3       # the next three
    ape run lease cure 1                # every instalment in arrears, in one transaction
    ape run lease default 1             # anyone, once the oldest unpaid one is default_after late
    ape run lease close 1               # the operator: a defaulted lease's GPUs are freed
    ape run lease recover 1 2500        # money recovered after a default, to holders
    ape run lease status                # every lease: arrears (amount, days late), default state
    ape run lease status 1

`open` and `close` are the operator's (TEST::1 on a local chain): the GPUs must be held by the
pool's GpuCollateral, counted (attestation fresh) and in no other lease, and the grace below the
pool's default_after. `pay`, `cure` and `recover` are the lessee's (TEST::6 locally) or anyone's:
the vault pulls the money from the payer, so it is approved for the total first. `default` is
anyone's (the operator's account locally). Nothing is sent when a check the chain can answer fails.
"""

import click

from gpu_rwa.chain import resolve_sender
from gpu_rwa.cli import (
    ConnectedProviderCommand,
    account_option,
    console,
    manifest_option,
    require_manifest,
    validated,
)
from gpu_rwa.leases import (
    LeaseTerms,
    Recovery,
    close_lease,
    cure,
    declare_default,
    lease_notes,
    lease_table,
    open_lease,
    pay_instalments,
    pay_recovery,
    require_lease,
)
from gpu_rwa.pool import load_pool


@click.group(short_help="Open leases, pay instalments, cure, default, close, recover, status")
def cli():
    """Leases of the pool: open, pay instalments, cure arrears, declare a default, close, pay
    recoveries, show the lease book."""


@cli.command("open", cls=ConnectedProviderCommand, short_help="Open a lease over the pool's GPUs")
@click.option("--lessee", required=True, help="The lessee's address.")
@click.option("--instalment", required=True, help="Stablecoin per instalment, e.g. 10000.")
@click.option("--period-days", type=int, required=True, help="Days between instalments.")
@click.option("--instalments", type=int, required=True, help="Number of instalments.")
@click.option(
    "--grace-days",
    type=int,
    default=0,
    show_default=True,
    help="Days before arrears (below the pool's default_after).",
)
@click.option("--gpu", "gpus", type=int, multiple=True, help="A GPU id (repeat for each).")
@manifest_option
@account_option
def open_(
    lessee, instalment, period_days, instalments, grace_days, gpus, manifest_file, account_alias
):
    """Open a lease of the --gpu GPUs (held and counted by the pool, in no other lease) to
    --lessee for --instalments instalments of --instalment every --period-days days (operator)."""
    pool = load_pool(require_manifest(manifest_file))
    terms = validated(
        LeaseTerms,
        dict(
            lessee=lessee,
            instalment=instalment,
            period_days=period_days,
            instalments=instalments,
            grace_days=grace_days,
            gpu_ids=list(gpus),
        ),
        pool.context,
    )
    sender = resolve_sender(account_alias, "operator")
    lease_id, _ = open_lease(pool, sender, terms)
    console.print(
        f"opened lease {lease_id} to {terms.lessee}: {terms.instalments} x "
        f"{pool.cash(terms.instalment)} every {terms.period_days} day(s), GPUs "
        f"{', '.join(map(str, terms.gpu_ids))}"
    )


@cli.command(cls=ConnectedProviderCommand, short_help="Pay the next instalment(s) of a lease")
@click.argument("lease_id", type=click.IntRange(min=0))
@click.option(
    "--times",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="How many instalments to pay, one transaction each.",
)
@manifest_option
@account_option
def pay(lease_id, times, manifest_file, account_alias):
    """Pay the next instalment(s) of lease LEASE_ID (the lessee, or anyone); approves the vault
    first if needed."""
    pool = load_pool(require_manifest(manifest_file))
    sender = resolve_sender(account_alias, "lessee")
    pay_instalments(pool, sender, lease_id, times, console)
    console.print(lease_table(pool, [lease_id]))


@cli.command("cure", cls=ConnectedProviderCommand, short_help="Pay every instalment in arrears")
@click.argument("lease_id", type=click.IntRange(min=0))
@manifest_option
@account_option
def cure_(lease_id, manifest_file, account_alias):
    """Pay every instalment of lease LEASE_ID in arrears in one transaction."""
    pool = load_pool(require_manifest(manifest_file))
    sender = resolve_sender(account_alias, "lessee")
    cure(pool, sender, lease_id, console)
    console.print(lease_table(pool, [lease_id]))


@cli.command(
    "default", cls=ConnectedProviderCommand, short_help="Declare a lease in default (anyone)"
)
@click.argument("lease_id", type=click.IntRange(min=0))
@manifest_option
@account_option
def default_(lease_id, manifest_file, account_alias):
    """Declare lease LEASE_ID in default (anyone), once its oldest unpaid instalment is the
    pool's default_after late; its GPUs are marked down in that block."""
    pool = load_pool(require_manifest(manifest_file))
    sender = resolve_sender(account_alias, "operator")
    declare_default(pool, sender, lease_id, console)


@cli.command("close", cls=ConnectedProviderCommand, short_help="Close a defaulted lease")
@click.argument("lease_id", type=click.IntRange(min=0))
@manifest_option
@account_option
def close_(lease_id, manifest_file, account_alias):
    """Close defaulted lease LEASE_ID (operator): its GPUs are free for another lease or a sale."""
    pool = load_pool(require_manifest(manifest_file))
    sender = resolve_sender(account_alias, "operator")
    close_lease(pool, sender, lease_id, console)


@cli.command(
    "recover", cls=ConnectedProviderCommand, short_help="Pay money recovered after a default"
)
@click.argument("lease_id", type=click.IntRange(min=0))
@click.argument("amount")
@manifest_option
@account_option
def recover(lease_id, amount, manifest_file, account_alias):
    """Pay AMOUNT of stablecoin recovered after lease LEASE_ID's default; it goes to the
    holders."""
    pool = load_pool(require_manifest(manifest_file))
    value = validated(Recovery, dict(amount=amount), pool.context).amount
    sender = resolve_sender(account_alias, "lessee")
    pay_recovery(pool, sender, lease_id, value, console)


@cli.command(cls=ConnectedProviderCommand, short_help="The lease book (or one lease)")
@click.argument("lease_id", type=click.IntRange(min=0), required=False)
@manifest_option
def status(lease_id, manifest_file):
    """Show the lease book, or lease LEASE_ID alone: instalments, arrears (amount, days late),
    default state."""
    pool = load_pool(require_manifest(manifest_file))
    if lease_id is not None:
        require_lease(pool, lease_id)
        ids = [lease_id]
    else:
        ids = list(range(1, pool.leases.lease_count() + 1))
    console.print(lease_table(pool, ids))
    for note in lease_notes(pool, ids):
        console.print(note, soft_wrap=True)
